//! The global `metrics` recorder mvi installs.
//!
//! Counters and gauges go to `metrics-exporter-prometheus`, which also renders them. Histograms are kept
//! here, in fixed atomic buckets: the exporter buffers every histogram sample until the next scrape or
//! upkeep and pins a crossbeam epoch on each `record`, while a histogram whose bounds are known (from the
//! catalog, the builder, or the default) needs one bucket increment and one sum update. Every histogram
//! renders as a Prometheus histogram, never as a summary, whoever records it.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, RwLock};

use metrics::{
    Counter, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};
use metrics_exporter_prometheus::{PrometheusHandle, PrometheusRecorder};

/// A histogram with fixed bucket bounds, recorded with relaxed atomics.
#[derive(Debug)]
pub(crate) struct FixedHistogram {
    bounds: Arc<[f64]>,
    /// Per-bucket (not cumulative) counts; the last one is `+Inf`.
    counts: Box<[AtomicU64]>,
    sum: AtomicU64,
}

impl FixedHistogram {
    fn new(bounds: Arc<[f64]>) -> Self {
        let counts = (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect();
        FixedHistogram {
            bounds,
            counts,
            sum: AtomicU64::new(0f64.to_bits()),
        }
    }

    /// Cumulative bucket counts, sum and count, read without stopping writers.
    fn snapshot(&self) -> (Vec<u64>, f64, u64) {
        let mut total = 0;
        let cumulative = self
            .counts
            .iter()
            .map(|c| {
                total += c.load(Relaxed);
                total
            })
            .collect();
        (cumulative, f64::from_bits(self.sum.load(Relaxed)), total)
    }
}

impl HistogramFn for FixedHistogram {
    #[inline]
    fn record(&self, value: f64) {
        let index = if value.is_nan() {
            self.bounds.len()
        } else {
            self.bounds.partition_point(|b| *b < value)
        };
        self.counts[index].fetch_add(1, Relaxed);
        let mut current = self.sum.load(Relaxed);
        loop {
            let next = (f64::from_bits(current) + value).to_bits();
            match self
                .sum
                .compare_exchange_weak(current, next, Relaxed, Relaxed)
            {
                Ok(_) => break,
                Err(seen) => current = seen,
            }
        }
    }
}

/// Histogram series and their bucket layouts.
#[derive(Debug)]
pub(crate) struct Histograms {
    bounds_by_name: HashMap<String, Arc<[f64]>>,
    default_bounds: Arc<[f64]>,
    series: RwLock<HashMap<Key, Arc<FixedHistogram>>>,
    help: RwLock<HashMap<String, String>>,
}

impl Histograms {
    pub(crate) fn new(
        bounds_by_name: HashMap<String, Arc<[f64]>>,
        default_bounds: Arc<[f64]>,
    ) -> Self {
        Histograms {
            bounds_by_name,
            default_bounds,
            series: RwLock::default(),
            help: RwLock::default(),
        }
    }

    fn get_or_create(&self, key: &Key) -> Arc<FixedHistogram> {
        if let Some(h) = self
            .series
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
        {
            return h.clone();
        }
        let mut series = self.series.write().unwrap_or_else(|e| e.into_inner());
        series
            .entry(key.clone())
            .or_insert_with(|| {
                let bounds = self
                    .bounds_by_name
                    .get(key.name())
                    .unwrap_or(&self.default_bounds)
                    .clone();
                Arc::new(FixedHistogram::new(bounds))
            })
            .clone()
    }

    fn render(&self, out: &mut String) {
        let series = self.series.read().unwrap_or_else(|e| e.into_inner());
        let help = self.help.read().unwrap_or_else(|e| e.into_inner());
        let mut families: BTreeMap<String, Vec<(&Key, &FixedHistogram)>> = BTreeMap::new();
        for (key, h) in series.iter() {
            families
                .entry(sanitize_name(key.name()))
                .or_default()
                .push((key, h));
        }
        for (name, mut members) in families {
            members.sort_by(|a, b| a.0.labels().cmp(b.0.labels()));
            if let Some(text) = help.get(&name) {
                let _ = writeln!(out, "# HELP {name} {}", escape_help(text));
            }
            let _ = writeln!(out, "# TYPE {name} histogram");
            for (key, h) in members {
                let labels: Vec<(String, String)> = key
                    .labels()
                    .map(|l| (sanitize_label(l.key()), l.value().to_string()))
                    .collect();
                let (cumulative, sum, count) = h.snapshot();
                for (i, c) in cumulative.iter().enumerate() {
                    let le = h
                        .bounds
                        .get(i)
                        .map_or_else(|| "+Inf".to_string(), |b| fmt_f64(*b));
                    let _ = writeln!(out, "{name}_bucket{} {c}", label_set(&labels, Some(&le)));
                }
                let _ = writeln!(
                    out,
                    "{name}_sum{} {}",
                    label_set(&labels, None),
                    fmt_f64(sum)
                );
                let _ = writeln!(out, "{name}_count{} {count}", label_set(&labels, None));
            }
        }
    }
}

/// `{a="x",le="0.1"}`, escaped as the text format requires; empty when there are no labels.
fn label_set(labels: &[(String, String)], le: Option<&str>) -> String {
    let mut out = String::new();
    let pairs = labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
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
fn sanitize_name(name: &str) -> String {
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

/// The recorder: the exporter for counters and gauges, [`Histograms`] for histograms.
#[derive(Clone, Debug)]
pub(crate) struct MviRecorder {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    prometheus: PrometheusRecorder,
    handle: PrometheusHandle,
    histograms: Histograms,
}

impl MviRecorder {
    pub(crate) fn new(prometheus: PrometheusRecorder, histograms: Histograms) -> Self {
        let handle = prometheus.handle();
        MviRecorder {
            inner: Arc::new(Inner {
                prometheus,
                handle,
                histograms,
            }),
        }
    }

    /// The whole exposition: the exporter's families, then the histograms.
    pub(crate) fn render(&self) -> String {
        let mut out = self.inner.handle.render();
        self.inner.histograms.render(&mut out);
        out
    }

    /// Drains the exporter's buffers; runs on a timer so memory stays bounded between scrapes.
    pub(crate) fn run_upkeep(&self) {
        self.inner.handle.run_upkeep();
    }
}

impl Recorder for MviRecorder {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner
            .prometheus
            .describe_counter(key, unit, description);
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.prometheus.describe_gauge(key, unit, description);
    }

    fn describe_histogram(&self, key: KeyName, _unit: Option<Unit>, description: SharedString) {
        let mut help = self
            .inner
            .histograms
            .help
            .write()
            .unwrap_or_else(|e| e.into_inner());
        help.entry(sanitize_name(key.as_str()))
            .or_insert_with(|| description.to_string());
    }

    fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> Counter {
        self.inner.prometheus.register_counter(key, metadata)
    }

    fn register_gauge(&self, key: &Key, metadata: &Metadata<'_>) -> Gauge {
        self.inner.prometheus.register_gauge(key, metadata)
    }

    fn register_histogram(&self, key: &Key, _metadata: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(self.inner.histograms.get_or_create(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_inclusive_upper_bounds() {
        let h = FixedHistogram::new(Arc::from([0.1, 1.0]));
        for v in [0.05, 0.1, 0.5, 1.0, 7.0, f64::NAN] {
            h.record(v);
        }
        let (cumulative, sum, count) = h.snapshot();
        assert_eq!(cumulative, [2, 4, 6]);
        assert_eq!(count, 6);
        assert!(sum.is_nan());
    }

    #[test]
    fn label_values_are_escaped() {
        let labels = [("path".to_string(), "a\"b\\c\nd".to_string())];
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
