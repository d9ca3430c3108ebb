//! The metric contract: Prometheus naming rules and conventions, checked at compile time.
//!
//! Every check returns a message in the house voice (lower case, syntax in backticks) and, where one
//! exists, a corrected name to suggest.

/// What a metric is, as far as naming rules go.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    Counter,
    Gauge,
    /// A histogram of durations: its name must end in `_seconds`.
    DurationHistogram,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::DurationHistogram => "duration histogram",
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

/// Abbreviated units and the base unit Prometheus wants instead.
const ABBREVIATED_UNITS: &[(&str, &str)] = &[
    ("ms", "seconds"),
    ("msec", "seconds"),
    ("msecs", "seconds"),
    ("millis", "seconds"),
    ("milliseconds", "seconds"),
    ("us", "seconds"),
    ("usec", "seconds"),
    ("micros", "seconds"),
    ("microseconds", "seconds"),
    ("ns", "seconds"),
    ("nanos", "seconds"),
    ("nanoseconds", "seconds"),
    ("sec", "seconds"),
    ("secs", "seconds"),
    ("min", "seconds"),
    ("mins", "seconds"),
    ("minutes", "seconds"),
    ("hours", "seconds"),
    ("hrs", "seconds"),
    ("kb", "bytes"),
    ("mb", "bytes"),
    ("gb", "bytes"),
    ("kib", "bytes"),
    ("mib", "bytes"),
    ("gib", "bytes"),
];

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

/// Checks a metric name against Prometheus' rules and naming conventions for its kind.
pub(crate) fn check_metric_name(name: &str, kind: Kind) -> Result<(), Violation> {
    check_charset(name, "metric")?;
    for suffix in RESERVED_SUFFIXES {
        if let Some(stem) = name.strip_suffix(suffix) {
            let suggestion = match kind {
                Kind::Counter => format!("{stem}_total"),
                Kind::DurationHistogram => format!("{stem}_seconds"),
                Kind::Gauge => stem.to_string(),
            };
            return Err(Violation::new(
                format!(
                    "metric name `{name}` ends in `{suffix}`, which Prometheus appends to histogram series"
                ),
                Some(suggestion),
            ));
        }
    }
    let segments: Vec<&str> = name.split('_').collect();
    for (i, seg) in segments.iter().enumerate() {
        let lower = seg.to_ascii_lowercase();
        if let Some((_, base)) = ABBREVIATED_UNITS.iter().find(|(abbr, _)| *abbr == lower) {
            let mut fixed: Vec<&str> = segments.clone();
            fixed[i] = base;
            let mut fixed = fixed.join("_");
            if kind == Kind::Counter && !fixed.ends_with("_total") {
                fixed.push_str("_total");
            }
            return Err(Violation::new(
                format!(
                    "metric name `{name}` uses the abbreviated unit `_{seg}`; Prometheus names use base units (`_{base}`)"
                ),
                Some(fixed),
            ));
        }
    }
    match kind {
        Kind::Counter if !name.ends_with("_total") => Err(Violation::new(
            format!("counter name `{name}` must end in `_total`"),
            Some(format!("{name}_total")),
        )),
        Kind::Gauge | Kind::DurationHistogram if name.ends_with("_total") => {
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
        _ => Ok(()),
    }
}

/// Checks one label name. `builtin` are the labels the macro adds itself (they may not be redefined).
pub(crate) fn check_label_name(name: &str, builtin: &[&str]) -> Result<(), Violation> {
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
}
