//! The one series store. Every call site (`#[observe]`, `#[traced_handler]`, a `metrics::counter!` of
//! the application's own) gets its series here, under one set of rules:
//!
//! - a metric has at most `cap` label sets (its declaration's `max_series`, else the builder's
//!   `max_series_per_metric`); past it, new sets are recorded with every label `__overflow__`,
//!   `mvi_series_overflow_total{metric}` rises and one warning is logged per metric;
//! - a series keeps the shape it was created with: a histogram asked for again with other bounds is
//!   refused (the call site gets a series that is not exported), counted in
//!   `mvi_series_shape_conflicts_total{metric}` and logged once per metric.
//!
//! Every kind is kept here in plain atomics ([`NativeCounter`], [`NativeGauge`], [`FixedHistogram`]) and
//! rendered by `render.rs`, in the Prometheus text format or in OpenMetrics. Gauges read at scrape time
//! are read by the [`ReadAtScrape`] function `install` sets, and rendered as they are read.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use metrics::{Gauge, Key, KeyName, Label, Metadata, Recorder, SharedString, Unit};

use super::buckets::DEFAULT_BUCKETS;
use super::label_sets::OVERFLOW_VALUE;
use super::native::{FixedHistogram, NativeCounter, NativeGauge};
use super::render::{self, Description, ExpositionFormat};

/// Counts calls recorded under `__overflow__`, by metric.
pub(crate) const OVERFLOW_METRIC: &str = "mvi_series_overflow_total";
/// Counts series refused because they were asked for with a second shape, by metric.
pub(crate) const SHAPE_CONFLICT_METRIC: &str = "mvi_series_shape_conflicts_total";

/// What the store takes from the configuration and the catalog.
#[derive(Debug, Default)]
pub(crate) struct Limits {
    /// Label sets per metric, unless `caps` says otherwise.
    pub(crate) max_series: usize,
    /// Metrics with a cap of their own (`#[observe(max_series = n)]`).
    pub(crate) caps: HashMap<String, usize>,
    /// Bounds of histograms recorded by name, through the `metrics` facade: from the builder's
    /// `histogram_buckets`, else the catalog's first declaration; else [`DEFAULT_BUCKETS`].
    pub(crate) bounds: HashMap<String, &'static [f64]>,
}

/// A gauge family read at each scrape (`gauge(callback)` of `mvi::metrics!`): its name, HELP, and the
/// value of each label set, in order. Nothing of it is kept between scrapes.
#[derive(Debug)]
pub(crate) struct ReadFamily {
    pub(crate) name: &'static str,
    pub(crate) help: &'static str,
    pub(crate) samples: Vec<(Key, f64)>,
}

/// What reads the gauge families of [`ReadFamily`] at each scrape.
pub(crate) type ReadAtScrape = fn(&Store) -> Vec<ReadFamily>;

/// One series.
#[derive(Clone, Debug)]
enum Series {
    Counter(Arc<NativeCounter>),
    Histogram(Arc<FixedHistogram>),
    Gauge(Arc<NativeGauge>),
}

/// What the store tracks per metric name.
#[derive(Debug, Default)]
struct Family {
    /// Label sets admitted against the cap.
    label_sets: usize,
    overflow_logged: bool,
    shape_conflict_logged: bool,
}

/// Every series of the process, by key.
#[derive(Debug)]
pub(crate) struct Store {
    limits: Limits,
    series: RwLock<HashMap<Key, Series>>,
    families: Mutex<HashMap<String, Family>>,
    descriptions: RwLock<HashMap<String, Description>>,
    /// The length of the last exposition, by format: the next one's starting capacity.
    rendered_len: [AtomicUsize; 2],
    read_at_scrape: OnceLock<ReadAtScrape>,
}

impl Store {
    pub(crate) fn new(limits: Limits) -> Store {
        Store {
            limits,
            series: RwLock::default(),
            families: Mutex::default(),
            descriptions: RwLock::default(),
            rendered_len: Default::default(),
            read_at_scrape: OnceLock::new(),
        }
    }

    /// Sets what reads the gauges read at each scrape (once).
    pub(crate) fn read_at_scrape(&self, read: ReadAtScrape) {
        let _ = self.read_at_scrape.set(read);
    }

    /// The most label sets `metric` may have.
    pub(crate) fn cap(&self, metric: &str) -> usize {
        self.limits
            .caps
            .get(metric)
            .copied()
            .unwrap_or(self.limits.max_series)
    }

    /// The series of `key`, made by `make` if it does not exist yet. No cap applies: the caller has
    /// admitted the label set, or its labels are a closed set known at compile time.
    fn get_or_insert(&self, key: &Key, make: impl FnOnce() -> Series) -> Series {
        if let Some(found) = self.read().get(key) {
            return found.clone();
        }
        self.write().entry(key.clone()).or_insert_with(make).clone()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<Key, Series>> {
        self.series.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<Key, Series>> {
        self.series.write().unwrap_or_else(|e| e.into_inner())
    }

    fn family<R>(&self, metric: &str, f: impl FnOnce(&mut Family) -> R) -> R {
        let mut families = self.families.lock().unwrap_or_else(|e| e.into_inner());
        match families.get_mut(metric) {
            Some(family) => f(family),
            None => f(families.entry(metric.to_string()).or_default()),
        }
    }

    /// A counter series (a detached one if `key` names a series of another kind).
    pub(crate) fn counter(&self, key: &Key) -> Arc<NativeCounter> {
        match self.get_or_insert(key, || Series::Counter(Arc::default())) {
            Series::Counter(c) => c,
            _ => Arc::default(),
        }
    }

    /// A histogram series with these bounds. A series that exists with other bounds keeps them: the
    /// caller gets a histogram that is not exported, and the conflict is counted and logged once.
    pub(crate) fn histogram(&self, key: &Key, bounds: &'static [f64]) -> Arc<FixedHistogram> {
        let series = self.get_or_insert(key, || {
            Series::Histogram(Arc::new(FixedHistogram::new(bounds)))
        });
        match series {
            Series::Histogram(h) if h.bounds() == bounds => h,
            Series::Histogram(h) => {
                self.shape_conflict(key, h.bounds(), bounds);
                Arc::new(FixedHistogram::new(bounds))
            }
            _ => Arc::new(FixedHistogram::new(bounds)),
        }
    }

    /// A gauge series.
    pub(crate) fn gauge(&self, key: &Key) -> Gauge {
        match self.get_or_insert(key, || Series::Gauge(Arc::default())) {
            Series::Gauge(g) => Gauge::from_arc(g),
            _ => Gauge::noop(),
        }
    }

    /// Counts one more label set of `metric`; `false` once the metric has its cap of them.
    pub(crate) fn admit(&self, metric: &str) -> bool {
        let cap = self.cap(metric);
        self.family(metric, |family| {
            if family.label_sets >= cap {
                return false;
            }
            family.label_sets += 1;
            true
        })
    }

    /// One call of `metric` recorded under `__overflow__`: counted, and logged the first time.
    pub(crate) fn overflowed(&self, metric: &str) {
        let first = self.family(metric, |family| {
            !std::mem::replace(&mut family.overflow_logged, true)
        });
        if first {
            tracing::warn!(
                target: "mvi",
                metric,
                cap = self.cap(metric),
                "label cardinality cap reached; further new label sets are recorded as `__overflow__`"
            );
        }
        let key = Key::from_parts(
            OVERFLOW_METRIC,
            vec![Label::new("metric", metric.to_string())],
        );
        self.counter(&key).add(1, None);
    }

    fn shape_conflict(&self, key: &Key, kept: &[f64], refused: &[f64]) {
        let metric = key.name();
        let first = self.family(metric, |family| {
            !std::mem::replace(&mut family.shape_conflict_logged, true)
        });
        if first {
            let labels: Vec<String> = key
                .labels()
                .map(|l| format!("{}={:?}", l.key(), l.value()))
                .collect();
            tracing::warn!(
                target: "mvi",
                metric,
                series = %labels.join(","),
                kept = ?kept,
                refused = ?refused,
                "two call sites feed one series with different buckets; the series keeps its first buckets and the second site's samples are not exported"
            );
        }
        let key = Key::from_parts(
            SHAPE_CONFLICT_METRIC,
            vec![Label::new("metric", metric.to_string())],
        );
        self.counter(&key).add(1, None);
    }

    /// The series of a key registered through the `metrics` facade (the application's own
    /// `metrics::counter!`, a library's): admitted against its metric's cap like a call site's.
    fn register(&self, key: &Key, make: impl Fn(&Key) -> Series) -> Series {
        if let Some(found) = self.read().get(key) {
            return found.clone();
        }
        let mut series = self.write();
        if let Some(found) = series.get(key) {
            return found.clone();
        }
        if self.admit(key.name()) {
            return series
                .entry(key.clone())
                .or_insert_with(|| make(key))
                .clone();
        }
        drop(series);
        self.overflowed(key.name());
        let labels = key
            .labels()
            .map(|l| Label::new(l.key().to_string(), OVERFLOW_VALUE))
            .collect::<Vec<_>>();
        let overflow = Key::from_parts(key.name().to_string(), labels);
        self.get_or_insert(&overflow, || make(&overflow))
    }

    /// Keeps the first HELP text and unit (`seconds`, `euros`) given for a metric.
    pub(crate) fn describe(&self, name: &str, unit: Option<&'static str>, help: &str) {
        let mut all = self.descriptions.write().unwrap_or_else(|e| e.into_inner());
        let description = all.entry(render::sanitize_name(name)).or_default();
        description.help.get_or_insert_with(|| help.to_string());
        if description.unit.is_none() {
            description.unit = unit.filter(|u| !u.is_empty());
        }
    }

    /// The whole exposition, in `format`.
    pub(crate) fn render(&self, format: ExpositionFormat) -> String {
        // Read before any lock is taken: a reader may record an overflow here.
        let read = self.read_at_scrape.get().map(|read| read(self));
        let descriptions = self.descriptions.read().unwrap_or_else(|e| e.into_inner());
        let series = self.read();
        let rendered_len = &self.rendered_len[format as usize];
        let text = render::render(
            format,
            rendered_len.load(Ordering::Relaxed) + 4096,
            render::Series {
                gauges: series.iter().filter_map(|(k, s)| match s {
                    Series::Gauge(g) => Some((k, &**g)),
                    _ => None,
                }),
                counters: series.iter().filter_map(|(k, s)| match s {
                    Series::Counter(c) => Some((k, &**c)),
                    _ => None,
                }),
                histograms: series.iter().filter_map(|(k, s)| match s {
                    Series::Histogram(h) => Some((k, &**h)),
                    _ => None,
                }),
                read: read.as_deref().unwrap_or_default(),
                descriptions: &descriptions,
            },
        );
        rendered_len.store(text.len(), Ordering::Relaxed);
        text
    }

    fn facade_bounds(&self, name: &str) -> &'static [f64] {
        self.limits
            .bounds
            .get(name)
            .copied()
            .unwrap_or(DEFAULT_BUCKETS)
    }
}

/// A `metrics` unit as OpenMetrics names it in `# UNIT`; none for a count.
fn unit_name(unit: Option<Unit>) -> Option<&'static str> {
    unit.filter(|u| *u != Unit::Count).map(|u| u.as_str())
}

/// The store seen through the `metrics` facade.
impl Recorder for Store {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.describe(key.as_str(), unit_name(unit), &description);
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.describe(key.as_str(), unit_name(unit), &description);
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.describe(key.as_str(), unit_name(unit), &description);
    }

    fn register_counter(&self, key: &Key, _metadata: &Metadata<'_>) -> metrics::Counter {
        match self.register(key, |_| Series::Counter(Arc::default())) {
            Series::Counter(c) => metrics::Counter::from_arc(c),
            _ => metrics::Counter::noop(),
        }
    }

    fn register_gauge(&self, key: &Key, _metadata: &Metadata<'_>) -> Gauge {
        match self.register(key, |_| Series::Gauge(Arc::default())) {
            Series::Gauge(g) => Gauge::from_arc(g),
            _ => Gauge::noop(),
        }
    }

    fn register_histogram(&self, key: &Key, _metadata: &Metadata<'_>) -> metrics::Histogram {
        let bounds = self.facade_bounds(key.name());
        match self.register(key, |_| {
            Series::Histogram(Arc::new(FixedHistogram::new(bounds)))
        }) {
            Series::Histogram(h) => metrics::Histogram::from_arc(h),
            _ => metrics::Histogram::noop(),
        }
    }
}
