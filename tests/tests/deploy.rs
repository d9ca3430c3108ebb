//! The files in `deploy/` are valid for the tools that read them.

use mvi_tests::promtool;
use std::path::PathBuf;

fn deploy(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy")
        .join(path)
}

#[test]
fn prometheus_config_rules_and_rule_tests_pass_promtool() {
    let config = deploy("prometheus/prometheus.yml");
    let rules = deploy("prometheus/rules.yml");
    let tests = deploy("prometheus/rules_test.yml");
    for args in [
        vec!["check", "config", config.to_str().unwrap()],
        vec!["check", "rules", rules.to_str().unwrap()],
        vec!["test", "rules", tests.to_str().unwrap()],
    ] {
        let Some((ok, output)) = promtool(&args, None) else {
            return;
        };
        assert!(ok, "promtool {args:?} failed:\n{output}");
    }
}

#[test]
fn operator_rules_match_the_plain_rules() {
    let rules = std::fs::read_to_string(deploy("prometheus/rules.yml")).unwrap();
    let operator = std::fs::read_to_string(deploy("kubernetes/prometheusrule.yaml")).unwrap();
    let plain = &rules[rules.find("groups:").unwrap()..];
    let spec = &operator[operator.find("spec:\n").unwrap() + "spec:\n".len()..];
    let dedented: Vec<&str> = spec
        .lines()
        .map(|l| l.strip_prefix("  ").unwrap_or(l))
        .collect();
    assert_eq!(
        dedented,
        plain.lines().collect::<Vec<_>>(),
        "regenerate deploy/kubernetes/prometheusrule.yaml"
    );
}

#[test]
fn dashboard_queries_use_metrics_mvi_exports() {
    let text = std::fs::read_to_string(deploy("grafana/mvi-red.json")).unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&text).unwrap();
    let known = [
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "function_calls_total",
        "function_calls_duration_seconds_bucket",
        "function_calls_concurrent",
        "mvi_series_overflow_total",
        "mvi_build_info",
        "up{",
    ];
    let mut exprs = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().unwrap();
            exprs += 1;
            assert!(
                known.iter().any(|m| expr.contains(m)),
                "unknown metric in {expr}"
            );
            assert!(
                expr.contains("job=~\"$job\""),
                "every query follows the job variable: {expr}"
            );
        }
    }
    assert!(exprs >= 8);
}

/// The `expr` of every rule in a rules file: one line, or the block under `expr: |`.
fn rule_exprs(rules: &str) -> Vec<String> {
    let mut exprs = Vec::new();
    let mut lines = rules.lines().peekable();
    while let Some(line) = lines.next() {
        let indent = line.len() - line.trim_start().len();
        let Some(expr) = line.trim().strip_prefix("expr:") else {
            continue;
        };
        if expr.trim() != "|" {
            exprs.push(expr.trim().to_string());
            continue;
        }
        let mut block = Vec::new();
        while let Some(next) = lines.peek() {
            if !next.trim().is_empty() && next.len() - next.trim_start().len() <= indent {
                break;
            }
            block.push(next.trim());
            lines.next();
        }
        exprs.push(block.join(" ").trim().to_string());
    }
    exprs
}

/// Every panel of the dashboard, rows included.
fn dashboard_panels() -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(deploy("grafana/mvi-red.json")).unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&text).unwrap();
    dashboard["panels"].as_array().unwrap().clone()
}

/// The expression of every target of the dashboard.
fn dashboard_exprs() -> Vec<String> {
    dashboard_panels()
        .iter()
        .flat_map(|panel| panel["targets"].as_array().into_iter().flatten())
        .map(|target| target["expr"].as_str().unwrap().to_string())
        .collect()
}

fn dashboard_panel_titles() -> Vec<String> {
    dashboard_panels()
        .iter()
        .filter(|panel| panel["type"] != "row")
        .map(|panel| panel["title"].as_str().unwrap().to_string())
        .collect()
}

/// The labels of the aggregation `by (...)` that takes in `metric` at `at` in `expr`: the last `by (`
/// before it.
fn aggregation_labels(expr: &str, at: usize) -> Option<Vec<&str>> {
    let by = expr[..at].rfind("by (")?;
    let list = &expr[by + "by (".len()..];
    let list = &list[..list.find(')')?];
    Some(list.split(',').map(str::trim).collect())
}

/// A series' shape belongs to its call site (SPEC §4): two functions, or two handlers, may have different
/// `le` sets. A quantile or any other aggregation of buckets that sums two call sites mixes two layouts.
#[test]
fn histogram_aggregations_keep_each_call_site_apart() {
    let rules = std::fs::read_to_string(deploy("prometheus/rules.yml")).unwrap();
    let exprs: Vec<(String, &str)> = rule_exprs(&rules)
        .into_iter()
        .map(|e| (e, "rules.yml"))
        .chain(dashboard_exprs().into_iter().map(|e| (e, "mvi-red.json")))
        .collect();
    let call_sites = [
        (
            "function_calls_duration_seconds_bucket",
            ["job", "function", "module", "le"],
        ),
        (
            "http_request_duration_seconds_bucket",
            ["job", "method", "route", "le"],
        ),
    ];
    let mut checked = 0;
    for (expr, file) in &exprs {
        assert!(
            !expr.contains("without"),
            "{file}: aggregate `by` the call site, not `without`: {expr}"
        );
        for (metric, keep) in call_sites {
            for (at, _) in expr.match_indices(metric) {
                let labels = aggregation_labels(expr, at)
                    .unwrap_or_else(|| panic!("{file}: {metric} summed with no `by`: {expr}"));
                assert!(
                    expr[..at].trim_end().ends_with("(rate(")
                        && expr[..expr[..at].rfind("by (").unwrap()].ends_with("sum "),
                    "{file}: {metric} is read as `sum by (...) (rate(...))`: {expr}"
                );
                for label in keep {
                    assert!(
                        labels.contains(&label),
                        "{file}: an aggregation of {metric} drops `{label}`, mixing call sites \
                         (or their bucket layouts): {expr}"
                    );
                }
                checked += 1;
            }
        }
        for (at, _) in expr.match_indices("histogram_quantile(") {
            let rest = &expr[at..];
            assert!(
                call_sites.iter().any(|(m, _)| rest.contains(m)),
                "{file}: a quantile of an unknown histogram: {expr}"
            );
        }
    }
    // rules.yml: two recording rules, two alerts; the dashboard: three quantiles.
    assert!(checked >= 7, "only {checked} aggregations of buckets found");
}

/// The dashboard's queries parse as PromQL (promtool checks them as recording rules, with Grafana's
/// variables replaced by values).
#[test]
fn dashboard_queries_are_valid_promql() {
    let mut file = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (i, expr) in dashboard_exprs().iter().enumerate() {
        let expr = expr.replace("$__rate_interval", "5m").replace("$job", ".+");
        file.push_str(&format!(
            "      - record: dashboard:query:{i}\n        expr: '{}'\n",
            expr.replace('\'', "''")
        ));
    }
    let path = std::env::temp_dir().join(format!("mvi-dashboard-rules-{}.yml", std::process::id()));
    std::fs::write(&path, file).unwrap();
    let checked = promtool(&["check", "rules", path.to_str().unwrap()], None);
    let _ = std::fs::remove_file(&path);
    if let Some((ok, output)) = checked {
        assert!(ok, "promtool rejects a dashboard query:\n{output}");
    }
}

/// The value on the line after the first line, from `from` on, that is `key` (a YAML list item's key).
fn value_after<'a>(text: &'a str, from: &str, key: &str) -> Option<&'a str> {
    let start = text.find(from)?;
    text[start..]
        .lines()
        .find_map(|l| l.trim().strip_prefix(key))
        .map(|v| v.trim().trim_matches('"'))
}

/// SPEC §6: on SIGTERM the pod keeps serving for `MVI_SHUTDOWN_DELAY`, then requests in flight finish
/// (bounded by `shutdown_timeout`, 30 s by default), then the span exporter flushes (bounded by 5 s):
/// the kubelet must not SIGKILL it before.
#[test]
fn deployment_grace_period_covers_delay_in_flight_requests_and_flush() {
    const SHUTDOWN_TIMEOUT: u64 = 30;
    const EXPORTER_FLUSH: u64 = 5;
    let text = std::fs::read_to_string(deploy("kubernetes/deployment.yaml")).unwrap();
    let grace: u64 = value_after(&text, "", "terminationGracePeriodSeconds:")
        .expect("deployment.yaml sets terminationGracePeriodSeconds")
        .parse()
        .unwrap();
    let delay = value_after(&text, "- name: MVI_SHUTDOWN_DELAY", "value:")
        .expect("deployment.yaml sets MVI_SHUTDOWN_DELAY");
    let delay = humantime::parse_duration(delay)
        .unwrap_or_else(|e| panic!("MVI_SHUTDOWN_DELAY {delay:?}: {e}"));
    assert!(
        !delay.is_zero(),
        "a zero delay closes the listener while proxies still send"
    );
    let needed = delay.as_secs_f64() + (SHUTDOWN_TIMEOUT + EXPORTER_FLUSH) as f64;
    assert!(
        grace as f64 >= needed,
        "terminationGracePeriodSeconds {grace} < {delay:?} delay + {SHUTDOWN_TIMEOUT} s in flight + \
         {EXPORTER_FLUSH} s flush"
    );
    for (probe, path) in [
        ("readinessProbe:", "/readyz"),
        ("livenessProbe:", "/livez"),
        ("startupProbe:", "/livez"),
    ] {
        assert_eq!(value_after(&text, probe, "path:"), Some(path), "{probe}");
        assert_eq!(value_after(&text, probe, "port:"), Some("admin"), "{probe}");
    }
}

#[derive(Debug, Default)]
struct Alert {
    name: String,
    labels: Vec<(String, String)>,
    annotations: Vec<(String, String)>,
}

impl Alert {
    fn label(&self, key: &str) -> Option<&str> {
        find(&self.labels, key)
    }

    fn annotation(&self, key: &str) -> Option<&str> {
        find(&self.annotations, key)
    }
}

fn find<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The alerts of rules.yml with their labels and annotations (one `key: value` a line, values in
/// double quotes or plain).
fn alerts() -> Vec<Alert> {
    let rules = std::fs::read_to_string(deploy("prometheus/rules.yml")).unwrap();
    let mut alerts: Vec<Alert> = Vec::new();
    let mut map: Option<(bool, usize)> = None; // (annotations?, indentation of `labels:`/`annotations:`)
    for line in rules.lines() {
        let indent = line.len() - line.trim_start().len();
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if map.is_some_and(|(_, at)| indent <= at) {
            map = None;
        }
        if let Some(name) = t.strip_prefix("- alert:") {
            alerts.push(Alert {
                name: name.trim().to_string(),
                ..Alert::default()
            });
        } else if t.starts_with("- record:") {
            map = None;
        } else if (t == "labels:" || t == "annotations:") && !alerts.is_empty() {
            map = Some((t == "annotations:", indent));
        } else if let (Some((annotations, _)), Some(alert)) = (map, alerts.last_mut()) {
            let (key, value) = t
                .split_once(':')
                .unwrap_or_else(|| panic!("not `key: value`: {t}"));
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            let pair = (key.to_string(), value.to_string());
            if annotations {
                alert.annotations.push(pair);
            } else {
                alert.labels.push(pair);
            }
        }
    }
    alerts
}

/// The `runbook_base_url` external label of prometheus.yml: the one place the runbooks' location is set.
fn runbook_base() -> String {
    let config = std::fs::read_to_string(deploy("prometheus/prometheus.yml")).unwrap();
    let global = &config[config.find("external_labels:").expect("external_labels")..];
    value_after(global, "", "runbook_base_url:")
        .expect("prometheus.yml sets external_labels.runbook_base_url")
        .to_string()
}

/// SPEC §7 and issue "Metrics that point to traces": every alert has `severity`/`impact` labels and
/// `summary`, `description`, `runbook_url` annotations; `runbook_url` is the one base plus the alert's
/// runbook, which exists; every runbook belongs to an alert.
#[test]
fn every_alert_is_labelled_annotated_and_has_its_runbook() {
    let alerts = alerts();
    assert!(alerts.len() >= 6, "{alerts:?}");
    for alert in &alerts {
        let name = &alert.name;
        assert!(
            matches!(alert.label("severity"), Some("critical" | "warning")),
            "{name}: severity critical or warning"
        );
        assert!(
            matches!(
                alert.label("impact"),
                Some("availability" | "user-facing" | "internal" | "observability")
            ),
            "{name}: impact one of availability, user-facing, internal, observability"
        );
        for key in ["summary", "description"] {
            assert!(
                alert.annotation(key).is_some_and(|v| !v.is_empty()),
                "{name}: annotation {key}"
            );
        }
        assert_eq!(
            alert.annotation("runbook_url"),
            Some(format!("{{{{ $externalLabels.runbook_base_url }}}}/{name}.md").as_str()),
            "{name}: runbook_url is the base set in prometheus.yml plus the runbook's file name"
        );
        assert!(
            deploy(&format!("runbooks/{name}.md")).is_file(),
            "{name}: deploy/runbooks/{name}.md is missing"
        );
    }
    for entry in std::fs::read_dir(deploy("runbooks")).unwrap() {
        let file = entry.unwrap().file_name().into_string().unwrap();
        let alert = file.strip_suffix(".md").unwrap_or(&file);
        assert!(
            alerts.iter().any(|a| a.name == alert),
            "deploy/runbooks/{file} belongs to no alert of rules.yml"
        );
    }
    // The default base is this repository's folder, so the rendered URL names a file that exists.
    let base = runbook_base();
    if !base.contains("://") {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        for alert in &alerts {
            let runbook = root.join(&base).join(format!("{}.md", alert.name));
            assert!(runbook.is_file(), "{}", runbook.display());
        }
    }
}

/// Each runbook says what the alert means, what to look at first (a query, a panel of the dashboard,
/// the logs by `trace_id`) and how to mitigate; every panel it names (in bold) is on the dashboard.
#[test]
fn runbooks_name_real_panels_queries_and_logs() {
    let titles = dashboard_panel_titles();
    for alert in alerts() {
        let name = &alert.name;
        let text = std::fs::read_to_string(deploy(&format!("runbooks/{name}.md"))).unwrap();
        assert!(text.starts_with(&format!("# {name}\n")), "{name}: title");
        for part in [
            "## What it means",
            "## Look first",
            "## Mitigate",
            "```promql",
            "| json |",
            "trace_id=\"<trace_id>\"",
        ] {
            assert!(text.contains(part), "{name}.md lacks {part:?}");
        }
        for label in ["severity", "impact"] {
            let value = alert.label(label).unwrap();
            assert!(
                text.contains(&format!("`{label}: {value}`")),
                "{name}.md states {label} {value}"
            );
        }
        let panels: Vec<String> = text
            .split("**")
            .skip(1)
            .step_by(2)
            .map(|p| p.replace('`', ""))
            .collect();
        assert!(!panels.is_empty(), "{name}.md names no dashboard panel");
        for panel in panels {
            assert!(
                titles.contains(&panel),
                "{name}.md names panel {panel:?}, not on the dashboard: {titles:?}"
            );
        }
    }
}

/// rules_test.yml has, for every alert, a firing case that asserts all of the alert's labels and its
/// rendered runbook_url, under the same external label as prometheus.yml.
#[test]
fn rule_tests_fire_every_alert_with_its_labels_and_runbook_url() {
    let tests = std::fs::read_to_string(deploy("prometheus/rules_test.yml")).unwrap();
    let base = runbook_base();
    let groups = tests.matches("- interval:").count();
    assert_eq!(
        tests
            .matches(&format!(
                "external_labels:\n      runbook_base_url: {base}\n"
            ))
            .count(),
        groups,
        "every test group sets external_labels.runbook_base_url as prometheus.yml does"
    );
    let cases: Vec<&str> = tests.split("alertname: ").skip(1).collect();
    for alert in alerts() {
        let name = &alert.name;
        let firing = cases.iter().find(|case| {
            case.starts_with(&format!("{name}\n")) && case.contains("exp_annotations:")
        });
        let case = firing.unwrap_or_else(|| panic!("rules_test.yml: no firing case of {name}"));
        for (key, value) in &alert.labels {
            assert!(
                case.contains(&format!("{key}: {value}\n")),
                "rules_test.yml: the case of {name} asserts {key}: {value}"
            );
        }
        for key in ["summary", "description"] {
            assert!(
                case.contains(&format!("{key}: ")),
                "rules_test.yml: the case of {name} asserts {key}"
            );
        }
        assert!(
            case.contains(&format!("runbook_url: \"{base}/{name}.md\"\n")),
            "rules_test.yml: the case of {name} asserts the rendered runbook_url {base}/{name}.md"
        );
    }
}
