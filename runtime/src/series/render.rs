//! The Prometheus text exposition (format 0.0.4) of the series mvi keeps.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use metrics::Key;

use super::native::{FixedHistogram, NativeCounter};
use super::store::ReadFamily;

/// Writes every counter family, sorted by name, each member sorted by labels.
pub(crate) fn counters<'a>(
    out: &mut String,
    help: &HashMap<String, String>,
    series: impl Iterator<Item = (&'a Key, &'a NativeCounter)>,
) {
    for (name, members) in families(series) {
        header(out, &name, "counter", help.get(&name));
        for (key, counter) in members {
            let _ = writeln!(
                out,
                "{name}{} {}",
                label_set(&labels(key), None),
                counter.get()
            );
        }
    }
}

/// Writes every histogram family: cumulative buckets, `_sum` and `_count` of each series.
pub(crate) fn histograms<'a>(
    out: &mut String,
    help: &HashMap<String, String>,
    series: impl Iterator<Item = (&'a Key, &'a FixedHistogram)>,
) {
    for (name, members) in families(series) {
        header(out, &name, "histogram", help.get(&name));
        for (key, histogram) in members {
            let labels = labels(key);
            let snapshot = histogram.snapshot();
            let bounds = histogram.bounds();
            for (i, count) in snapshot.cumulative.iter().enumerate() {
                let le = bounds
                    .get(i)
                    .map_or_else(|| "+Inf".to_string(), |b| fmt_f64(*b));
                let _ = writeln!(
                    out,
                    "{name}_bucket{} {count}",
                    label_set(&labels, Some(&le))
                );
            }
            let _ = writeln!(
                out,
                "{name}_sum{} {}",
                label_set(&labels, None),
                fmt_f64(snapshot.sum)
            );
            let _ = writeln!(
                out,
                "{name}_count{} {}",
                label_set(&labels, None),
                snapshot.count
            );
        }
    }
}

/// Writes the gauge families read at this scrape, each member in the order read.
pub(crate) fn read_gauges(out: &mut String, families: &[ReadFamily]) {
    for family in families.iter().filter(|f| !f.samples.is_empty()) {
        let name = sanitize_name(family.name);
        let help = family.help.to_string();
        header(out, &name, "gauge", Some(&help));
        for (key, value) in &family.samples {
            let _ = writeln!(
                out,
                "{name}{} {}",
                label_set(&labels(key), None),
                fmt_f64(*value)
            );
        }
    }
}

/// Series grouped by (sanitised) family name, families and their members in a stable order.
fn families<'a, T: 'a>(
    series: impl Iterator<Item = (&'a Key, &'a T)>,
) -> BTreeMap<String, Vec<(&'a Key, &'a T)>> {
    let mut families: BTreeMap<String, Vec<(&Key, &T)>> = BTreeMap::new();
    for (key, value) in series {
        families
            .entry(sanitize_name(key.name()))
            .or_default()
            .push((key, value));
    }
    for members in families.values_mut() {
        members.sort_by(|a, b| a.0.labels().cmp(b.0.labels()));
    }
    families
}

fn header(out: &mut String, name: &str, kind: &str, help: Option<&String>) {
    if let Some(text) = help {
        let _ = writeln!(out, "# HELP {name} {}", escape_help(text));
    }
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn labels(key: &Key) -> Vec<(String, &str)> {
    key.labels()
        .map(|l| (sanitize_label(l.key()), l.value()))
        .collect()
}

/// `{a="x",le="0.1"}`, escaped as the text format requires; empty when there are no labels.
fn label_set(labels: &[(String, &str)], le: Option<&str>) -> String {
    let mut out = String::new();
    let pairs = labels
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .chain(le.map(|le| ("le", le)));
    for (i, (k, v)) in pairs.enumerate() {
        out.push(if i == 0 { '{' } else { ',' });
        out.push_str(k);
        out.push_str("=\"");
        for c in v.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    if !out.is_empty() {
        out.push('}');
    }
    out
}

fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Prometheus float syntax: `+Inf`, `-Inf`, `NaN`, otherwise the shortest exact decimal.
pub(crate) fn fmt_f64(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{v}")
    }
}

/// Metric names as the exporter writes them: invalid characters become `_`.
pub(crate) fn sanitize_name(name: &str) -> String {
    name.chars()
        .enumerate()
        .map(|(i, c)| {
            if c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit()) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn sanitize_label(name: &str) -> String {
    let s: String = sanitize_name(name).replace(':', "_");
    if s.starts_with("__") {
        format!("_{}", s.trim_start_matches('_'))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        let labels = [("path".to_string(), "a\"b\\c\nd")];
        assert_eq!(
            label_set(&labels, Some("+Inf")),
            r#"{path="a\"b\\c\nd",le="+Inf"}"#
        );
        assert_eq!(label_set(&[], None), "");
    }

    #[test]
    fn floats_use_prometheus_syntax() {
        assert_eq!(fmt_f64(f64::INFINITY), "+Inf");
        assert_eq!(fmt_f64(0.005), "0.005");
        assert_eq!(fmt_f64(1.0), "1");
        assert_eq!(sanitize_name("http.requests-total"), "http_requests_total");
    }
}
