//! The global `metrics` recorder mvi installs.
//!
//! Gauges, and counters nobody declared, go to `metrics-exporter-prometheus`, which also renders them.
//! Two kinds of series are kept here instead, in plain atomics, and rendered after the exporter's:
//!
//! - every histogram, in fixed buckets. The exporter buffers every histogram sample until the next
//!   scrape or upkeep and pins a crossbeam epoch on each `record`; a histogram whose bounds are known
//!   (from the catalog, the builder, or the default) needs one bucket increment and one sum update, and
//!   it always renders as a histogram, never as a summary, whoever records it;
//! - the counters the catalog declares. The exporter's counters also bump a generation counter on every
//!   increment (for idle expiry, which mvi does not use); a declared counter is one `fetch_add`.
//!
//! `#[observe]` call sites hold these series directly; everything else reaches them through the
//! `metrics` facade, so a name has one series whoever records it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, RwLock};

use metrics::{
    Counter, CounterFn, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder,
    SharedString, Unit,
};
use metrics_exporter_prometheus::{PrometheusHandle, PrometheusRecorder};

/// A counter kept by mvi.
#[derive(Debug, Default)]
pub(crate) struct NativeCounter(AtomicU64);

impl NativeCounter {
    #[inline]
    pub(crate) fn add(&self, n: u64) {
        self.0.fetch_add(n, Relaxed);
    }
}

impl CounterFn for NativeCounter {
    fn increment(&self, value: u64) {
        self.add(value);
    }

    fn absolute(&self, value: u64) {
        self.0.fetch_max(value, Relaxed);
    }
}

/// A histogram with fixed bucket bounds, recorded with relaxed atomics.
#[derive(Debug)]
pub(crate) struct FixedHistogram {
    bounds: Arc<[f64]>,
    /// The bounds in whole nanoseconds, for durations recorded as such.
    bounds_ns: Box<[u64]>,
    /// Per-bucket (not cumulative) counts; the last one is `+Inf`.
    counts: Box<[AtomicU64]>,
    /// Sum of values recorded as `f64`, as `f64` bits.
    sum: AtomicU64,
    /// Sum of durations recorded in nanoseconds.
    sum_ns: AtomicU64,
}

impl FixedHistogram {
    fn new(bounds: Arc<[f64]>) -> Self {
        let counts = (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect();
        let bounds_ns = bounds.iter().map(|b| (b * 1e9).floor() as u64).collect();
        FixedHistogram {
            bounds,
            bounds_ns,
            counts,
            sum: AtomicU64::new(0f64.to_bits()),
            sum_ns: AtomicU64::new(0),
        }
    }

    /// Records a duration in nanoseconds: integer compares and two `fetch_add`s.
    #[inline]
    pub(crate) fn record_nanos(&self, nanos: u64) {
        let index = self.bounds_ns.partition_point(|b| *b < nanos);
        self.counts[index].fetch_add(1, Relaxed);
        self.sum_ns.fetch_add(nanos, Relaxed);
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
        let sum = f64::from_bits(self.sum.load(Relaxed)) + self.sum_ns.load(Relaxed) as f64 * 1e-9;
        (cumulative, sum, total)
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

/// The series mvi keeps itself: declared counters and all histograms.
#[derive(Debug)]
pub(crate) struct Native {
    /// Counter names the catalog declares.
    counter_names: HashSet<String>,
    bounds_by_name: HashMap<String, Arc<[f64]>>,
    default_bounds: Arc<[f64]>,
    counters: RwLock<HashMap<Key, Arc<NativeCounter>>>,
    histograms: RwLock<HashMap<Key, Arc<FixedHistogram>>>,
    help: RwLock<HashMap<String, String>>,
}

fn get_or_insert<T>(
    map: &RwLock<HashMap<Key, Arc<T>>>,
    key: &Key,
    make: impl FnOnce() -> T,
) -> Arc<T> {
    if let Some(found) = map.read().unwrap_or_else(|e| e.into_inner()).get(key) {
        return found.clone();
    }
    let mut map = map.write().unwrap_or_else(|e| e.into_inner());
    map.entry(key.clone())
        .or_insert_with(|| Arc::new(make()))
        .clone()
}

impl Native {
    pub(crate) fn new(
        counter_names: HashSet<String>,
        bounds_by_name: HashMap<String, Arc<[f64]>>,
        default_bounds: Arc<[f64]>,
    ) -> Self {
        Native {
            counter_names,
            bounds_by_name,
            default_bounds,
            counters: RwLock::default(),
            histograms: RwLock::default(),
            help: RwLock::default(),
        }
    }

    fn counter(&self, key: &Key) -> Arc<NativeCounter> {
        get_or_insert(&self.counters, key, NativeCounter::default)
    }

    fn histogram(&self, key: &Key) -> Arc<FixedHistogram> {
        get_or_insert(&self.histograms, key, || {
            let bounds = self
                .bounds_by_name
                .get(key.name())
                .unwrap_or(&self.default_bounds)
                .clone();
            FixedHistogram::new(bounds)
        })
    }

    fn describe(&self, name: &str, description: &str) {
        let mut help = self.help.write().unwrap_or_else(|e| e.into_inner());
        help.entry(sanitize_name(name))
            .or_insert_with(|| description.to_string());
    }

    fn render(&self, out: &mut String) {
        let help = self.help.read().unwrap_or_else(|e| e.into_inner());
        let counters = self.counters.read().unwrap_or_else(|e| e.into_inner());
        for (name, members) in families(counters.iter()) {
            header(out, &name, "counter", help.get(&name));
            for (key, c) in members {
                let _ = writeln!(
                    out,
                    "{name}{} {}",
                    label_set(&labels(key), None),
                    c.0.load(Relaxed)
                );
            }
        }
        drop(counters);
        let histograms = self.histograms.read().unwrap_or_else(|e| e.into_inner());
        for (name, members) in families(histograms.iter()) {
            header(out, &name, "histogram", help.get(&name));
            for (key, h) in members {
                let labels = labels(key);
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

/// Series grouped by (sanitised) family name, families and their members in a stable order.
fn families<'a, T>(
    series: impl Iterator<Item = (&'a Key, &'a Arc<T>)>,
) -> BTreeMap<String, Vec<(&'a Key, &'a T)>>
where
    T: 'a,
{
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

fn labels(key: &Key) -> Vec<(String, String)> {
    key.labels()
        .map(|l| (sanitize_label(l.key()), l.value().to_string()))
        .collect()
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

/// The recorder: the exporter, plus the [`Native`] series.
#[derive(Clone, Debug)]
pub(crate) struct MviRecorder {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    prometheus: PrometheusRecorder,
    handle: PrometheusHandle,
    native: Native,
}

impl MviRecorder {
    pub(crate) fn new(prometheus: PrometheusRecorder, native: Native) -> Self {
        let handle = prometheus.handle();
        MviRecorder {
            inner: Arc::new(Inner {
                prometheus,
                handle,
                native,
            }),
        }
    }

    /// The whole exposition: the exporter's families, then mvi's.
    pub(crate) fn render(&self) -> String {
        let mut out = self.inner.handle.render();
        self.inner.native.render(&mut out);
        out
    }

    /// Drains the exporter's buffers; runs on a timer so memory stays bounded between scrapes.
    pub(crate) fn run_upkeep(&self) {
        self.inner.handle.run_upkeep();
    }

    fn is_native_counter(&self, name: &str) -> bool {
        self.inner.native.counter_names.contains(name)
    }

    /// A declared counter's series, for call sites that hold it directly.
    pub(crate) fn native_counter(&self, key: &Key) -> Arc<NativeCounter> {
        self.inner.native.counter(key)
    }

    /// A histogram's series, for call sites that hold it directly.
    pub(crate) fn native_histogram(&self, key: &Key) -> Arc<FixedHistogram> {
        self.inner.native.histogram(key)
    }
}

impl Recorder for MviRecorder {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        if self.is_native_counter(key.as_str()) {
            self.inner.native.describe(key.as_str(), &description);
        } else {
            self.inner
                .prometheus
                .describe_counter(key, unit, description);
        }
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.prometheus.describe_gauge(key, unit, description);
    }

    fn describe_histogram(&self, key: KeyName, _unit: Option<Unit>, description: SharedString) {
        self.inner.native.describe(key.as_str(), &description);
    }

    fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> Counter {
        if self.is_native_counter(key.name()) {
            Counter::from_arc(self.native_counter(key))
        } else {
            self.inner.prometheus.register_counter(key, metadata)
        }
    }

    fn register_gauge(&self, key: &Key, metadata: &Metadata<'_>) -> Gauge {
        self.inner.prometheus.register_gauge(key, metadata)
    }

    fn register_histogram(&self, key: &Key, _metadata: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(self.native_histogram(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_inclusive_upper_bounds() {
        let h = FixedHistogram::new(Arc::from([0.1, 1.0]));
        for v in [0.05, 0.1, 0.5, 1.0, 7.0] {
            h.record(v);
        }
        h.record_nanos(100_000_000);
        h.record_nanos(100_000_001);
        let (cumulative, sum, count) = h.snapshot();
        assert_eq!(cumulative, [3, 6, 7]);
        assert_eq!(count, 7);
        assert!((sum - 8.850_000_001).abs() < 1e-9, "{sum}");
        h.record(f64::NAN);
        assert!(h.snapshot().1.is_nan());
        assert_eq!(h.snapshot().0, [3, 6, 8]);
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
