//! The exposition of every series: the Prometheus text format 0.0.4, or OpenMetrics 1.0 text with
//! exemplars.
//!
//! Both formats show a series under the same name, so what Prometheus stores does not depend on the
//! format it negotiated: a counter whose name does not end in `_total` (one recorded with
//! `metrics::counter!("jobs")`) is exposed as `jobs_total` in both, as OpenMetrics requires of counter
//! samples. The differences are OpenMetrics' own: a counter family is named without `_total` in its
//! `# TYPE`/`# HELP` lines, `# UNIT` where the name ends in the unit, `"` escaped in `# HELP`,
//! exemplars on counters and buckets, and `# EOF` last.

use std::collections::{BTreeMap, HashMap};
use std::fmt::{Display, Write as _};

use metrics::Key;

use super::exemplar::Exemplar;
use super::native::{FixedHistogram, NativeCounter, NativeGauge};
use super::store::ReadFamily;

/// A format of the `/metrics` exposition.
///
/// # Examples
///
/// ```standalone_crate
/// let telemetry = mvi::Telemetry::builder().without_admin_server().without_logs().install().unwrap();
/// let text = telemetry.render_as(mvi::ExpositionFormat::OpenMetrics);
/// assert!(text.ends_with("# EOF\n"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExpositionFormat {
    /// The Prometheus text format, version 0.0.4: what `/metrics` answers unless asked otherwise.
    PrometheusText,
    /// OpenMetrics 1.0 text, with exemplars: what Prometheus asks for first.
    OpenMetrics,
}

impl ExpositionFormat {
    /// The `Content-Type` of an exposition in this format.
    ///
    /// # Examples
    ///
    /// ```
    /// use mvi::ExpositionFormat;
    ///
    /// assert_eq!(ExpositionFormat::PrometheusText.content_type(), mvi::PROMETHEUS_CONTENT_TYPE);
    /// assert_eq!(
    ///     ExpositionFormat::OpenMetrics.content_type(),
    ///     "application/openmetrics-text; version=1.0.0; charset=utf-8"
    /// );
    /// ```
    pub const fn content_type(self) -> &'static str {
        match self {
            ExpositionFormat::PrometheusText => "text/plain; version=0.0.4; charset=utf-8",
            ExpositionFormat::OpenMetrics => {
                "application/openmetrics-text; version=1.0.0; charset=utf-8"
            }
        }
    }
}

/// HELP text and unit of a metric, by (sanitised) name.
#[derive(Debug, Default)]
pub(crate) struct Description {
    pub(crate) help: Option<String>,
    /// The unit (`seconds`, `bytes`), written as OpenMetrics `# UNIT` where the name ends in it.
    pub(crate) unit: Option<&'static str>,
}

/// Every series of the store, by kind.
pub(crate) struct Series<'a, G, C, H> {
    pub(crate) gauges: G,
    pub(crate) counters: C,
    pub(crate) histograms: H,
    /// Gauge families read at this scrape, each member in the order read.
    pub(crate) read: &'a [ReadFamily],
    pub(crate) descriptions: &'a HashMap<String, Description>,
}

/// The whole exposition: gauges, gauges read at this scrape, counters, histograms; families sorted by
/// name, and each family's series by labels (a read family's in the order read). `capacity` is the expected length (the last exposition's), so the text is not
/// copied as it grows.
pub(crate) fn render<'a>(
    format: ExpositionFormat,
    capacity: usize,
    series: Series<
        'a,
        impl Iterator<Item = (&'a Key, &'a NativeGauge)>,
        impl Iterator<Item = (&'a Key, &'a NativeCounter)>,
        impl Iterator<Item = (&'a Key, &'a FixedHistogram)>,
    >,
) -> String {
    let mut w = Writer {
        out: String::with_capacity(capacity),
        format,
        descriptions: series.descriptions,
        labels: String::new(),
    };
    for (name, members) in families(series.gauges) {
        w.header(&name, &name, "gauge");
        for (key, gauge) in members {
            w.labels(key);
            w.sample(&name, "", None, Float(gauge.get()), None);
        }
    }
    for family in series.read.iter().filter(|f| !f.samples.is_empty()) {
        let name = sanitize_name(family.name);
        w.describe(&name, "gauge", Some(family.help), None);
        for (key, value) in &family.samples {
            w.labels(key);
            w.sample(&name, "", None, Float(*value), None);
        }
    }
    for (name, members) in families(series.counters) {
        // Samples end in `_total` in both formats; OpenMetrics names the family without it.
        let sample = if name.ends_with("_total") {
            name.clone()
        } else {
            format!("{name}_total")
        };
        let family = match format {
            ExpositionFormat::PrometheusText => &sample,
            ExpositionFormat::OpenMetrics => &sample[..sample.len() - "_total".len()],
        };
        w.header(&name, family, "counter");
        for (key, counter) in members {
            w.labels(key);
            w.sample(&sample, "", None, counter.get(), counter.exemplar());
        }
    }
    let mut le_cache: HashMap<(*const f64, usize), Vec<String>> = HashMap::new();
    for (name, members) in families(series.histograms) {
        w.header(&name, &name, "histogram");
        for (key, histogram) in members {
            w.labels(key);
            let snapshot = histogram.snapshot();
            let bounds = histogram.bounds();
            let les = le_cache
                .entry((bounds.as_ptr(), bounds.len()))
                .or_insert_with(|| {
                    bounds
                        .iter()
                        .map(|b| Float(*b).to_string())
                        .chain(["+Inf".to_string()])
                        .collect()
                });
            for (i, (count, le)) in snapshot.cumulative.iter().zip(les.iter()).enumerate() {
                w.sample(&name, "_bucket", Some(le), count, histogram.exemplar(i));
            }
            w.sample(&name, "_sum", None, Float(snapshot.sum), None);
            w.sample(&name, "_count", None, snapshot.count, None);
        }
    }
    if format == ExpositionFormat::OpenMetrics {
        w.out.push_str("# EOF\n");
    }
    w.out
}

struct Writer<'a> {
    out: String,
    format: ExpositionFormat,
    descriptions: &'a HashMap<String, Description>,
    /// The current series' labels, `a="x",b="y"`, escaped.
    labels: String,
}

impl Writer<'_> {
    /// `# HELP`, `# TYPE` and (OpenMetrics) `# UNIT` of the family of metric `name`, as described.
    fn header(&mut self, name: &str, family: &str, kind: &str) {
        let description = self.descriptions.get(name);
        let help = description.and_then(|d| d.help.as_deref());
        self.describe(family, kind, help, description.and_then(|d| d.unit));
    }

    /// `# HELP`, `# TYPE` and (OpenMetrics) `# UNIT` of `family`.
    fn describe(&mut self, family: &str, kind: &str, help: Option<&str>, unit: Option<&str>) {
        if let Some(help) = help {
            let _ = write!(self.out, "# HELP {family} ");
            for c in help.chars() {
                match c {
                    '\\' => self.out.push_str("\\\\"),
                    '\n' => self.out.push_str("\\n"),
                    '"' if self.format == ExpositionFormat::OpenMetrics => {
                        self.out.push_str("\\\"")
                    }
                    c => self.out.push(c),
                }
            }
            self.out.push('\n');
        }
        let _ = writeln!(self.out, "# TYPE {family} {kind}");
        if self.format == ExpositionFormat::OpenMetrics {
            if let Some(unit) = unit.filter(|u| {
                family
                    .strip_suffix(u)
                    .is_some_and(|stem| stem.ends_with('_'))
            }) {
                let _ = writeln!(self.out, "# UNIT {family} {unit}");
            }
        }
    }

    /// Makes `key`'s labels those of the next samples.
    fn labels(&mut self, key: &Key) {
        self.labels.clear();
        for (i, label) in key.labels().enumerate() {
            if i > 0 {
                self.labels.push(',');
            }
            push_label_name(&mut self.labels, label.key());
            self.labels.push_str("=\"");
            push_escaped(&mut self.labels, label.value());
            self.labels.push('"');
        }
    }

    /// One sample line of the current series: `name{labels,le="x"} value`, and its exemplar in
    /// OpenMetrics.
    fn sample(
        &mut self,
        name: &str,
        suffix: &str,
        le: Option<&str>,
        value: impl Display,
        exemplar: Option<Exemplar>,
    ) {
        let out = &mut self.out;
        out.push_str(name);
        out.push_str(suffix);
        if !self.labels.is_empty() || le.is_some() {
            out.push('{');
            out.push_str(&self.labels);
            if let Some(le) = le {
                if !self.labels.is_empty() {
                    out.push(',');
                }
                out.push_str("le=\"");
                out.push_str(le);
                out.push('"');
            }
            out.push('}');
        }
        let _ = write!(out, " {value}");
        if let (ExpositionFormat::OpenMetrics, Some(e)) = (self.format, exemplar) {
            let _ = write!(
                out,
                " # {{trace_id=\"{}\",span_id=\"{}\"}} {} {}.{:03}",
                e.trace_id,
                e.span_id,
                Float(e.value),
                e.unix_ms / 1000,
                e.unix_ms % 1000
            );
        }
        out.push('\n');
    }
}

/// Series grouped by (sanitised) metric name, names and their members in a stable order.
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

/// A label value with `\`, `"` and line feeds escaped, as both formats require.
fn push_escaped(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// A label name as both formats allow it: `[a-zA-Z_][a-zA-Z0-9_]*`, other characters as `_`, and not
/// starting with `__` (reserved).
fn push_label_name(out: &mut String, name: &str) {
    let start = out.len();
    for (i, c) in name.chars().enumerate() {
        let valid = c.is_ascii_alphabetic() || c == '_' || (i > 0 && c.is_ascii_digit());
        out.push(if valid { c } else { '_' });
    }
    if out[start..].starts_with("__") {
        let underscores = out[start..].bytes().take_while(|b| *b == b'_').count();
        out.replace_range(start..start + underscores, "_");
    }
}

/// A float in the syntax both formats read: `+Inf`, `-Inf`, `NaN`, otherwise the shortest exact
/// decimal.
struct Float(f64);

impl Display for Float {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = self.0;
        if v.is_nan() {
            f.write_str("NaN")
        } else if v.is_infinite() {
            f.write_str(if v > 0.0 { "+Inf" } else { "-Inf" })
        } else {
            write!(f, "{v}")
        }
    }
}

/// Metric names as the exposition writes them: invalid characters become `_`.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped_and_names_sanitised() {
        let mut out = String::new();
        push_escaped(&mut out, "a\"b\\c\nd");
        assert_eq!(out, r#"a\"b\\c\nd"#);
        let mut out = String::new();
        push_label_name(&mut out, "__a.b");
        push_label_name(&mut out, "9x");
        assert_eq!(out, "_a_b_x");
    }

    #[test]
    fn floats_use_prometheus_syntax() {
        let f = |v: f64| Float(v).to_string();
        assert_eq!(f(f64::INFINITY), "+Inf");
        assert_eq!(f(f64::NEG_INFINITY), "-Inf");
        assert_eq!(f(f64::NAN), "NaN");
        assert_eq!(f(0.005), "0.005");
        assert_eq!(f(1.0), "1");
        assert_eq!(sanitize_name("http.requests-total"), "http_requests_total");
    }
}
