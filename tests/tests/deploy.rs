//! The files in `deploy/` are valid for the tools that read them.

use std::path::PathBuf;
use std::process::Command;

fn deploy(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy")
        .join(path)
}

/// Runs promtool; `None` (with the reason printed) when it is missing outside CI.
fn promtool(args: &[&str]) -> Option<(bool, String)> {
    match Command::new("promtool").args(args).output() {
        Ok(out) => Some((
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )),
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("promtool is required in CI: {e}")
        }
        Err(e) => {
            eprintln!("skipping: cannot run promtool ({e}); install Debian's `prometheus` package");
            None
        }
    }
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
        if let Some((ok, output)) = promtool(&args) {
            assert!(ok, "promtool {args:?} failed:\n{output}");
        }
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
