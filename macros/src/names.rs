//! The metric contract: Prometheus naming rules and conventions, checked at compile time.
//!
//! Every check returns a message in the house voice (lower case, syntax in backticks) and, where one
//! exists, a corrected name to suggest that passes every rule.
//!
//! Beyond the data model's rules, these cover every lint `promtool check metrics` applies to names
//! (client_golang's `promlint`), so nothing the macros accept is flagged later: `lintCounter`,
//! `lintHistogramSummaryReserved`, `lintMetricUnits`, `lintUnitAbbreviations`, `lintMetricTypeInName`,
//! `lintReservedChars`, `lintCamelCase`, and newer releases' `LintGauge` (`_timestamp_seconds`). Where
//! promlint matches part of a name (`_ms_` or a final `_ms`), these look at every `_`-separated word,
//! the first one too, which is stricter.

/// What a metric is, as far as naming rules go.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    Counter,
    Gauge,
    /// A histogram of durations: its name must end in `_seconds`.
    DurationHistogram,
    /// A histogram of other values (sizes, amounts): any base unit, or none.
    ValueHistogram,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::DurationHistogram => "duration histogram",
            Kind::ValueHistogram => "histogram",
        }
    }
}

/// A broken rule: what is wrong, and the name to use instead when one can be derived.
#[derive(Debug)]
pub(crate) struct Violation {
    pub(crate) message: String,
    pub(crate) suggestion: Option<String>,
}

impl Violation {
    fn new(message: impl Into<String>, suggestion: Option<String>) -> Self {
        Violation {
            message: message.into(),
            suggestion,
        }
    }

    /// The message with its suggestion, ready for `compile_error!`.
    pub(crate) fn render(&self) -> String {
        match &self.suggestion {
            Some(s) => format!("{}; did you mean \"{}\"?", self.message, s),
            None => self.message.clone(),
        }
    }
}

/// Suffixes Prometheus appends to histogram and summary series; a metric may not end in them.
const RESERVED_SUFFIXES: &[&str] = &["_bucket", "_count", "_sum", "_created"];

/// Abbreviated units and the base unit to spell out instead (`None` where the abbreviation is
/// ambiguous). promlint's list (`s`, `ms`, `us`, `ns`, `sec`, `b`, `kb`, `mb`, `gb`, `tb`, `pb`, `m`,
/// `h`, `d`) and common variants it misses.
const ABBREVIATED_UNITS: &[(&str, Option<&str>)] = &[
    ("s", Some("seconds")),
    ("sec", Some("seconds")),
    ("secs", Some("seconds")),
    ("ms", Some("seconds")),
    ("msec", Some("seconds")),
    ("msecs", Some("seconds")),
    ("millis", Some("seconds")),
    ("us", Some("seconds")),
    ("usec", Some("seconds")),
    ("micros", Some("seconds")),
    ("ns", Some("seconds")),
    ("nanos", Some("seconds")),
    ("min", Some("seconds")),
    ("mins", Some("seconds")),
    ("h", Some("seconds")),
    ("hrs", Some("seconds")),
    ("d", Some("seconds")),
    ("m", None),
    ("b", Some("bytes")),
    ("kb", Some("bytes")),
    ("mb", Some("bytes")),
    ("gb", Some("bytes")),
    ("tb", Some("bytes")),
    ("pb", Some("bytes")),
    ("kib", Some("bytes")),
    ("mib", Some("bytes")),
    ("gib", Some("bytes")),
];

/// Units promlint knows, each with its base unit (`lintMetricUnits`): a word naming a unit that is not
/// its own base, with or without a prefix from [`UNIT_PREFIXES`], is flagged.
const UNITS: &[(&str, &str)] = &[
    ("amperes", "amperes"),
    ("bytes", "bytes"),
    ("celsius", "celsius"),
    ("grams", "grams"),
    ("joules", "joules"),
    ("kelvin", "kelvin"),
    ("meters", "meters"),
    ("metres", "metres"),
    ("seconds", "seconds"),
    ("volts", "volts"),
    ("minutes", "seconds"),
    ("hours", "seconds"),
    ("days", "seconds"),
    ("weeks", "seconds"),
    ("kelvins", "kelvin"),
    ("fahrenheit", "celsius"),
    ("rankine", "celsius"),
    ("inches", "meters"),
    ("yards", "meters"),
    ("miles", "meters"),
    ("bits", "bytes"),
    ("calories", "joules"),
    ("pounds", "grams"),
    ("ounces", "grams"),
];

/// Unit prefixes promlint knows (with its spelling `mibi`), and the IEC `mebi` it misses.
const UNIT_PREFIXES: &[&str] = &[
    "pico", "nano", "micro", "milli", "centi", "deci", "deca", "hecto", "kilo", "kibi", "mega",
    "mibi", "mebi", "giga", "gibi", "tera", "tebi", "peta", "pebi",
];

/// Metric types, which the `# TYPE` line carries and a name should not repeat (`lintMetricTypeInName`).
const TYPE_NAMES: &[&str] = &["counter", "gauge", "histogram", "summary"];

/// The base unit of a word naming a unit other than its base (`milliseconds`, `kilobytes`, `hours`).
fn non_base_unit(word: &str) -> Option<&'static str> {
    let base_of = |unit: &str| {
        UNITS
            .iter()
            .find(|(u, _)| *u == unit)
            .map(|(_, base)| *base)
    };
    UNIT_PREFIXES
        .iter()
        .find_map(|p| word.strip_prefix(p).and_then(base_of))
        .or_else(|| base_of(word))
        .filter(|base| *base != word)
}

/// `name` with its `_`-separated word `i` replaced (or removed, for `None`).
fn replace_word(name: &str, i: usize, with: Option<&str>) -> String {
    name.split('_')
        .enumerate()
        .filter_map(|(j, w)| if j == i { with } else { Some(w) })
        .collect::<Vec<_>>()
        .join("_")
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `ordersPlaced` → `orders_placed`, `HTTP-Requests` → `http_requests`.
pub(crate) fn to_snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1);
            let boundary = match prev {
                Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_ascii_uppercase() => next.is_some_and(|n| n.is_ascii_lowercase()),
                _ => false,
            };
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if is_name_char(c) {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let trimmed = out.trim_matches('_');
    let mut s = trimmed.to_string();
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    s
}

/// The characters rule shared by metric and label names: `[a-zA-Z_][a-zA-Z0-9_]*`.
fn check_charset(name: &str, what: &str) -> Result<(), Violation> {
    if name.is_empty() {
        return Err(Violation::new(format!("{what} name is empty"), None));
    }
    if let Some(c) = name.chars().find(|&c| c == ':') {
        let fixed = name.replace(c, "_");
        return Err(Violation::new(
            format!(
                "{what} name `{name}` contains `:`, which Prometheus reserves for recording rules"
            ),
            Some(fixed),
        ));
    }
    let first = name.chars().next().unwrap_or('_');
    if !is_name_start(first) || !name.chars().all(is_name_char) {
        // No guess for non-ASCII letters: `région` → `r_gion` would help no one.
        let fixed = to_snake_case(name);
        let suggest = name.is_ascii() && !fixed.is_empty() && fixed != name;
        return Err(Violation::new(
            format!(
                "{what} name `{name}` must match `[a-zA-Z_][a-zA-Z0-9_]*` (ASCII letters, digits and `_`, not starting with a digit)"
            ),
            suggest.then_some(fixed),
        ));
    }
    if name.starts_with("__") {
        return Err(Violation::new(
            format!(
                "{what} name `{name}` starts with `__`, which Prometheus reserves for internal use"
            ),
            Some(name.trim_start_matches('_').to_string()).filter(|s| !s.is_empty()),
        ));
    }
    if name.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(Violation::new(
            format!("{what} name `{name}` is not snake_case"),
            Some(to_snake_case(name)),
        ));
    }
    Ok(())
}

/// Checks a metric name against Prometheus' rules and naming conventions for its kind. The
/// suggestion, when there is one, passes every rule.
pub(crate) fn check_metric_name(name: &str, kind: Kind) -> Result<(), Violation> {
    with_passing_suggestion(name, |n| metric_rule(n, kind))
}

/// Checks one label name. `builtin` are the labels the macro adds itself (they may not be redefined).
/// The suggestion, when there is one, passes every rule.
pub(crate) fn check_label_name(name: &str, builtin: &[&str]) -> Result<(), Violation> {
    with_passing_suggestion(name, |n| label_rule(n, builtin))
}

/// The first rule `name` breaks. Each rule suggests the fix for itself alone; the next rule's fix is
/// applied to that, until the suggestion passes them all. A fix that breaks a rule without a fix is
/// not suggested.
fn with_passing_suggestion(
    name: &str,
    rule: impl Fn(&str) -> Result<(), Violation>,
) -> Result<(), Violation> {
    let Err(mut violation) = rule(name) else {
        return Ok(());
    };
    let mut next = violation.suggestion.take();
    // Each fix removes a problem; the bound only guards against two fixes undoing each other.
    for _ in 0..8 {
        let Some(candidate) = next else { break };
        match rule(&candidate) {
            Ok(()) => {
                violation.suggestion = Some(candidate);
                break;
            }
            Err(v) => next = v.suggestion,
        }
    }
    Err(violation)
}

/// The first rule `name` breaks, with the fix for that rule alone.
fn metric_rule(name: &str, kind: Kind) -> Result<(), Violation> {
    check_charset(name, "metric")?;
    for suffix in RESERVED_SUFFIXES {
        if let Some(stem) = name.strip_suffix(suffix) {
            let suggestion = match kind {
                Kind::Counter => format!("{stem}_total"),
                Kind::DurationHistogram => format!("{stem}_seconds"),
                Kind::Gauge | Kind::ValueHistogram => stem.to_string(),
            };
            return Err(Violation::new(
                format!(
                    "metric name `{name}` ends in `{suffix}`, which Prometheus appends to histogram series"
                ),
                Some(suggestion),
            ));
        }
    }
    for (i, word) in name.split('_').enumerate() {
        if let Some((_, base)) = ABBREVIATED_UNITS.iter().find(|(abbr, _)| *abbr == word) {
            let message = match base {
                Some(base) => format!(
                    "metric name `{name}` uses the abbreviated unit `_{word}`; Prometheus names use base units (`_{base}`)"
                ),
                None => format!(
                    "metric name `{name}` uses the abbreviated unit `_{word}`; Prometheus names spell out base units (`_seconds`, `_meters`)"
                ),
            };
            return Err(Violation::new(
                message,
                base.map(|b| replace_word(name, i, Some(b))),
            ));
        }
        if let Some(base) = non_base_unit(word) {
            return Err(Violation::new(
                format!(
                    "metric name `{name}` uses the unit `_{word}`; Prometheus names use the base unit `_{base}`"
                ),
                Some(replace_word(name, i, Some(base))),
            ));
        }
        if let Some(ty) = TYPE_NAMES.iter().find(|t| **t == word).filter(|_| i > 0) {
            return Err(Violation::new(
                format!(
                    "metric name `{name}` includes the metric type `_{ty}`, which the exposition already states"
                ),
                Some(replace_word(name, i, None)),
            ));
        }
    }
    match kind {
        Kind::Counter if !name.ends_with("_total") => Err(Violation::new(
            format!("counter name `{name}` must end in `_total`"),
            Some(format!("{name}_total")),
        )),
        Kind::Gauge | Kind::DurationHistogram | Kind::ValueHistogram
            if name.ends_with("_total") =>
        {
            let stem = name.trim_end_matches("_total");
            let suggestion = match kind {
                Kind::DurationHistogram => format!("{stem}_seconds"),
                _ => stem.to_string(),
            };
            Err(Violation::new(
                format!(
                    "{} name `{name}` must not end in `_total`, which is for counters",
                    kind.noun()
                ),
                Some(suggestion),
            ))
        }
        Kind::DurationHistogram if !name.ends_with("_seconds") => Err(Violation::new(
            format!("duration histogram name `{name}` must end in `_seconds`"),
            Some(format!("{name}_seconds")),
        )),
        Kind::DurationHistogram if name.ends_with("_timestamp_seconds") => Err(Violation::new(
            format!(
                "duration histogram name `{name}` ends in `_timestamp_seconds`, which Prometheus keeps for gauges holding a point in time"
            ),
            name.strip_suffix("_timestamp_seconds")
                .map(|stem| format!("{stem}_duration_seconds")),
        )),
        _ => Ok(()),
    }
}

/// The base units a metric name ends in: those promlint knows, at their base, and `ratio`.
const BASE_UNITS: &[&str] = &[
    "amperes", "bytes", "celsius", "grams", "joules", "kelvin", "meters", "metres", "seconds",
    "volts", "ratio",
];

/// The unit a metric name states: its last word (before `_total`) when that is a base unit.
pub(crate) fn unit_in_name(name: &str) -> Option<&'static str> {
    let stem = name.strip_suffix("_total").unwrap_or(name);
    let word = stem.rsplit('_').next()?;
    BASE_UNITS.iter().copied().find(|u| *u == word)
}

/// Checks a unit named outright (`unit = "euros"`): lower case, not abbreviated, not a multiple or a
/// fraction of a base unit.
pub(crate) fn check_unit(unit: &str) -> Result<(), Violation> {
    let well_formed = unit.starts_with(|c: char| c.is_ascii_lowercase())
        && unit
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !well_formed {
        let fixed = to_snake_case(unit);
        return Err(Violation::new(
            format!("unit `{unit}` must be a lower-case word (`[a-z][a-z0-9_]*`)"),
            (unit.is_ascii() && !fixed.is_empty() && fixed != unit).then_some(fixed),
        ));
    }
    for (i, word) in unit.split('_').enumerate() {
        let base = ABBREVIATED_UNITS
            .iter()
            .find(|(abbr, _)| *abbr == word)
            .map(|(_, base)| *base)
            .map(|base| (base, "is abbreviated"))
            .or_else(|| non_base_unit(word).map(|base| (Some(base), "is not a base unit")));
        if let Some((base, problem)) = base {
            return Err(Violation::new(
                format!(
                    "unit `{unit}` {problem}; Prometheus names use base units (`seconds`, `bytes`, `meters`, ...)"
                ),
                base.map(|b| replace_word(unit, i, Some(b))),
            ));
        }
    }
    Ok(())
}

/// Checks that `name` ends in its unit, `_unit` (before `_total` for a counter), as Prometheus' naming
/// conventions and OpenMetrics ask. The suggestion, when there is one, passes every rule.
pub(crate) fn check_name_ends_in_unit(name: &str, unit: &str, kind: Kind) -> Result<(), Violation> {
    let (stem, total) = match kind {
        Kind::Counter => (name.strip_suffix("_total").unwrap_or(name), "_total"),
        _ => (name, ""),
    };
    if stem.ends_with(&format!("_{unit}")) {
        return Ok(());
    }
    let fixed = format!("{stem}_{unit}{total}");
    Err(Violation::new(
        format!(
            "metric name `{name}` must end in its unit, `_{unit}`{total_note}",
            total_note = if total.is_empty() {
                ""
            } else {
                " (then `_total`)"
            }
        ),
        check_metric_name(&fixed, kind).is_ok().then_some(fixed),
    ))
}

/// The first rule a label name breaks, with the fix for that rule alone.
fn label_rule(name: &str, builtin: &[&str]) -> Result<(), Violation> {
    check_charset(name, "label")?;
    if name == "le" || name == "quantile" {
        return Err(Violation::new(
            format!(
                "label name `{name}` is reserved: Prometheus uses it for histogram and summary buckets"
            ),
            None,
        ));
    }
    if builtin.contains(&name) {
        return Err(Violation::new(
            format!(
                "label name `{name}` clashes with a label mvi adds itself (built-in: {})",
                builtin
                    .iter()
                    .map(|b| format!("`{b}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suggestion(name: &str, kind: Kind) -> Option<String> {
        check_metric_name(name, kind)
            .err()
            .and_then(|v| v.suggestion)
    }

    #[test]
    fn accepts_conventional_names() {
        assert!(check_metric_name("orders_placed_total", Kind::Counter).is_ok());
        assert!(check_metric_name("checkout_duration_seconds", Kind::DurationHistogram).is_ok());
        assert!(check_metric_name("queue_depth", Kind::Gauge).is_ok());
    }

    #[test]
    fn suggests_fixes() {
        assert_eq!(
            suggestion("orders_placed", Kind::Counter).as_deref(),
            Some("orders_placed_total")
        );
        assert_eq!(
            suggestion("ordersPlaced_total", Kind::Counter).as_deref(),
            Some("orders_placed_total")
        );
        assert_eq!(
            suggestion("latency_ms", Kind::DurationHistogram).as_deref(),
            Some("latency_seconds")
        );
        assert_eq!(
            suggestion("orders_count", Kind::Counter).as_deref(),
            Some("orders_total")
        );
        assert_eq!(
            suggestion("jobs:rate5m", Kind::Gauge).as_deref(),
            Some("jobs_rate5m")
        );
        assert_eq!(
            suggestion("busy_total", Kind::Gauge).as_deref(),
            Some("busy")
        );
        assert_eq!(
            suggestion("work_duration", Kind::DurationHistogram).as_deref(),
            Some("work_duration_seconds")
        );
        assert!(check_metric_name("__secret_total", Kind::Counter).is_err());
        assert!(check_metric_name("9lives_total", Kind::Counter).is_err());
    }

    #[test]
    fn label_rules() {
        assert!(check_label_name("region", &["function"]).is_ok());
        assert!(check_label_name("le", &[]).is_err());
        assert!(check_label_name("quantile", &[]).is_err());
        assert!(check_label_name("__name", &[]).is_err());
        assert!(check_label_name("function", &["function"]).is_err());
        assert_eq!(
            check_label_name("userTier", &[])
                .unwrap_err()
                .suggestion
                .as_deref(),
            Some("user_tier")
        );
    }

    #[test]
    fn value_histograms_take_any_base_unit() {
        assert!(check_metric_name("order_value_euros", Kind::ValueHistogram).is_ok());
        assert!(check_metric_name("upload_size_bytes", Kind::ValueHistogram).is_ok());
        assert_eq!(
            suggestion("upload_size_kb", Kind::ValueHistogram).as_deref(),
            Some("upload_size_bytes")
        );
        assert_eq!(
            suggestion("orders_total", Kind::ValueHistogram).as_deref(),
            Some("orders")
        );
    }

    #[test]
    fn units() {
        assert_eq!(unit_in_name("upload_size_bytes"), Some("bytes"));
        assert_eq!(unit_in_name("cpu_seconds_total"), Some("seconds"));
        assert_eq!(unit_in_name("cache_hit_ratio"), Some("ratio"));
        assert_eq!(unit_in_name("order_value_euros"), None);
        assert_eq!(unit_in_name("orders_total"), None);
        assert!(check_unit("euros").is_ok());
        assert_eq!(
            check_unit("ms").unwrap_err().suggestion.as_deref(),
            Some("seconds")
        );
        assert_eq!(
            check_unit("kilobytes").unwrap_err().suggestion.as_deref(),
            Some("bytes")
        );
        assert_eq!(
            check_unit("Euros").unwrap_err().suggestion.as_deref(),
            Some("euros")
        );
        assert!(
            check_name_ends_in_unit("order_value_euros", "euros", Kind::ValueHistogram).is_ok()
        );
        assert!(check_name_ends_in_unit("refunds_euros_total", "euros", Kind::Counter).is_ok());
        assert_eq!(
            check_name_ends_in_unit("refunds_total", "euros", Kind::Counter)
                .unwrap_err()
                .suggestion
                .as_deref(),
            Some("refunds_euros_total")
        );
        assert_eq!(
            check_name_ends_in_unit("order_value", "euros", Kind::ValueHistogram)
                .unwrap_err()
                .render(),
            "metric name `order_value` must end in its unit, `_euros`; did you mean \"order_value_euros\"?"
        );
    }

    /// A name each rule mirrored from promtool flags, with the fix suggested.
    const PROMTOOL_CASES: &[(&str, Kind, Option<&str>)] = &[
        // lintUnitAbbreviations
        (
            "uploaded_b_total",
            Kind::Counter,
            Some("uploaded_bytes_total"),
        ),
        ("disk_tb", Kind::Gauge, Some("disk_bytes")),
        ("archive_pb", Kind::Gauge, Some("archive_bytes")),
        ("wait_s", Kind::DurationHistogram, Some("wait_seconds")),
        ("uptime_h", Kind::Gauge, Some("uptime_seconds")),
        ("retention_d", Kind::Gauge, Some("retention_seconds")),
        ("distance_m", Kind::Gauge, None),
        // lintMetricUnits: non-base units, with or without a prefix
        (
            "uploaded_kilobytes_total",
            Kind::Counter,
            Some("uploaded_bytes_total"),
        ),
        (
            "checkout_milliseconds",
            Kind::DurationHistogram,
            Some("checkout_seconds"),
        ),
        ("uptime_hours", Kind::Gauge, Some("uptime_seconds")),
        ("cpu_fahrenheit", Kind::Gauge, Some("cpu_celsius")),
        ("link_bits_total", Kind::Counter, Some("link_bytes_total")),
        ("payload_kilograms", Kind::Gauge, Some("payload_grams")),
        ("heap_mibibytes", Kind::Gauge, Some("heap_bytes")),
        (
            "minutes_waited_total",
            Kind::Counter,
            Some("seconds_waited_total"),
        ),
        // lintMetricTypeInName
        ("jobs_gauge", Kind::Gauge, Some("jobs")),
        ("orders_counter_total", Kind::Counter, Some("orders_total")),
        (
            "latency_histogram_seconds",
            Kind::DurationHistogram,
            Some("latency_seconds"),
        ),
        (
            "latency_summary_seconds",
            Kind::DurationHistogram,
            Some("latency_seconds"),
        ),
    ];

    /// Names rejected here that promtool 2.42 lets through: an abbreviation as the first word, and
    /// newer promlint's `LintGauge` (`_timestamp_seconds` is for gauges).
    const STRICTER_CASES: &[(&str, Kind, Option<&str>)] = &[
        ("ms_spent_total", Kind::Counter, Some("seconds_spent_total")),
        (
            "job_timestamp_seconds",
            Kind::DurationHistogram,
            Some("job_duration_seconds"),
        ),
    ];

    #[test]
    fn promtool_rules() {
        for &(name, kind, fixed) in PROMTOOL_CASES.iter().chain(STRICTER_CASES) {
            let v = check_metric_name(name, kind).expect_err(name);
            assert_eq!(v.suggestion.as_deref(), fixed, "{name}: {}", v.message);
        }
        for (name, kind) in [
            ("heap_bytes", Kind::Gauge),
            ("thermometers_total", Kind::Counter),
            ("build_seconds", Kind::DurationHistogram),
            ("counter_resets_total", Kind::Counter),
            ("gauges_read_total", Kind::Counter),
        ] {
            assert!(check_metric_name(name, kind).is_ok(), "{name}");
        }
    }

    #[test]
    fn suggestions_pass_every_rule() {
        assert_eq!(
            suggestion("latency_ms_total", Kind::Gauge).as_deref(),
            Some("latency_seconds")
        );
        assert_eq!(
            suggestion("jobs:gauge_total", Kind::Gauge).as_deref(),
            Some("jobs")
        );
        // `__le` would become `le`, which is reserved and has no fix: no suggestion.
        assert_eq!(check_label_name("__le", &[]).unwrap_err().suggestion, None);
    }

    /// Every name these rules accept, and every name they suggest, passes `promtool check metrics`;
    /// so every name promtool flags is rejected here. Without promtool this is skipped with the reason
    /// on stderr, unless `CI` is set.
    #[test]
    fn agree_with_promtool() {
        use std::io::Write;
        use std::process::{Command, Stdio};

        let words = [
            "orders",
            "s",
            "ms",
            "sec",
            "secs",
            "b",
            "kb",
            "tb",
            "m",
            "h",
            "d",
            "bits",
            "bytes",
            "kilobytes",
            "milliseconds",
            "minutes",
            "hours",
            "celsius",
            "kelvins",
            "counter",
            "gauge",
            "histogram",
            "summary",
            "created",
            "timestamp",
            "info",
            "thermometers",
        ];
        let mut probes: Vec<(String, Kind)> = Vec::new();
        for kind in [
            Kind::Counter,
            Kind::Gauge,
            Kind::DurationHistogram,
            Kind::ValueHistogram,
        ] {
            for w in words {
                for stem in [format!("x_{w}"), format!("{w}_x"), format!("x_{w}_y")] {
                    for name in [
                        stem.clone(),
                        format!("{stem}_total"),
                        format!("{stem}_seconds"),
                    ] {
                        if let Err(v) = check_metric_name(&name, kind) {
                            probes.extend(v.suggestion.map(|s| (s, kind)));
                        }
                        probes.push((name, kind));
                    }
                }
            }
            let cases = PROMTOOL_CASES.iter().chain(STRICTER_CASES);
            for &(name, k, fixed) in cases.filter(|c| c.1 == kind) {
                probes.push((name.to_string(), k));
                probes.extend(fixed.map(|f| (f.to_string(), k)));
            }
        }
        let labels = [
            "region", "userTier", "UserTier", "le", "quantile", "_x", "__x", "tier_ms",
        ];
        // One exposition per kind: a name is one family. Names ending in a series suffix (rejected
        // anyway) are left out: in a histogram exposition they would read as another's samples.
        for kind in [
            Kind::Counter,
            Kind::Gauge,
            Kind::DurationHistogram,
            Kind::ValueHistogram,
        ] {
            let mut names: Vec<&str> = probes
                .iter()
                .filter(|(n, k)| *k == kind && !RESERVED_SUFFIXES.iter().any(|s| n.ends_with(s)))
                .map(|(n, _)| n.as_str())
                .collect();
            names.sort_unstable();
            names.dedup();
            let mut text = String::new();
            for name in &names {
                let (ty, samples) = match kind {
                    Kind::Counter => ("counter", format!("{name} 1\n")),
                    Kind::Gauge => ("gauge", format!("{name} 1\n")),
                    Kind::DurationHistogram | Kind::ValueHistogram => (
                        "histogram",
                        format!("{name}_bucket{{le=\"+Inf\"}} 1\n{name}_sum 1\n{name}_count 1\n"),
                    ),
                };
                text += &format!("# HELP {name} Probe.\n# TYPE {name} {ty}\n{samples}");
            }
            if kind == Kind::Gauge {
                for (i, label) in labels.iter().enumerate() {
                    text +=
                        &format!("# HELP label_probe_{i} Probe.\n# TYPE label_probe_{i} gauge\n");
                    text += &format!("label_probe_{i}{{{label}=\"x\"}} 1\n");
                }
            }
            let child = Command::new("promtool")
                .args(["check", "metrics"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn();
            let mut child = match child {
                Ok(child) => child,
                Err(e) if std::env::var_os("CI").is_none() => {
                    let _ = writeln!(
                        std::io::stderr(),
                        "skipping `promtool check metrics` of the name rules: cannot run `promtool` ({e}); install Debian's `prometheus` package, or set `CI` to make this a failure"
                    );
                    return;
                }
                Err(e) => panic!("promtool is required when `CI` is set: {e}"),
            };
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
            let out = child.wait_with_output().unwrap();
            let findings =
                String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
            assert!(!findings.contains("error while linting"), "{findings}");
            let flagged = |family: &str| {
                findings
                    .lines()
                    .any(|l| l.strip_prefix(family).is_some_and(|r| r.starts_with(' ')))
            };
            for name in &names {
                if check_metric_name(name, kind).is_ok() {
                    assert!(
                        !flagged(name),
                        "`{name}` is accepted, but promtool flags it"
                    );
                } else if PROMTOOL_CASES.iter().any(|c| c.0 == *name) {
                    assert!(flagged(name), "promtool does not flag `{name}`");
                }
            }
            if kind == Kind::Gauge {
                for (i, label) in labels.iter().enumerate() {
                    let accepted = check_label_name(label, &[]).is_ok();
                    assert!(
                        !(accepted && flagged(&format!("label_probe_{i}"))),
                        "label `{label}` is accepted, but promtool flags it"
                    );
                }
            }
        }
    }
}
