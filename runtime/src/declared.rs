//! Metrics declared with `mvi::metrics!`: counters, gauges, gauges read at scrape time and value
//! histograms, each a `static` whose type the macro generates, with methods that take the label values
//! as typed arguments and call the types here.
//!
//! A declared metric keeps its series the way an `#[observe]` site does. Before `install`, every call
//! goes through the `metrics` facade, so whatever recorder is current (a test's in-memory one) sees it,
//! and no handle made then is kept; with no recorder at all, nothing is recorded or allocated. After it, the series come from the store once and are kept: a
//! closed label set (enums, `bool`) in a table indexed by [`Labels::index`] (no hashing), an open one
//! (`&str`, integers) in a [`LabelSets`] cache capped by the store, past which new label sets are
//! recorded as `__overflow__`.
//!
//! A gauge read at scrape time (`gauge(callback)`) keeps no series: its callback runs at each scrape
//! and reports the value of each label set, and only what it reports is exported, under the same cap.

use std::collections::BTreeMap;
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once, OnceLock, PoisonError, RwLock};

use metrics::{CounterFn, HistogramFn, Key, Label, Level, Metadata, Recorder};

use crate::__private::WithLabels;
use crate::catalog::MetricDecl;
use crate::global;
use crate::label::{Labels, combinations};
use crate::series::{FixedHistogram, LabelSets, NativeCounter, OVERFLOW_VALUE, ReadFamily, Store};

static META: Metadata<'static> = Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

/// A counter declared with `mvi::metrics!`.
pub struct Counter(Series<Arc<NativeCounter>>);

/// A gauge declared with `mvi::metrics!`, set by the application.
pub struct Gauge(Series<metrics::Gauge>);

/// A histogram declared with `mvi::metrics!`, with the buckets of its declaration.
pub struct Histogram(Series<Arc<FixedHistogram>>);

/// A gauge declared with `mvi::metrics!` as `gauge(callback)`: read at each scrape.
pub struct CallbackGauge {
    decl: &'static MetricDecl,
    read: RwLock<Option<Arc<Read>>>,
    /// Set once the gauge is in [`CALLBACK_GAUGES`].
    listed: Once,
    /// Set once a panic of its callback has been logged.
    panic_logged: AtomicBool,
}

/// A callback: it calls its argument with each label set's value and values.
type Callback = Box<dyn FnMut(&mut dyn FnMut(f64, &[&str])) + Send>;

/// The callback of a gauge; scrapes take turns.
type Read = Mutex<Callback>;

/// Every gauge with a callback, in the order they were first registered.
static CALLBACK_GAUGES: Mutex<Vec<&'static CallbackGauge>> = Mutex::new(Vec::new());

impl Counter {
    #[doc(hidden)]
    pub const fn new(decl: &'static MetricDecl) -> Self {
        Counter(Series::new(decl))
    }

    /// Adds `n` to the series of `labels`.
    #[inline]
    pub fn add<L: Labels + ?Sized>(&self, n: u64, labels: &L) {
        self.0.record(
            labels,
            Store::counter,
            |counter| counter.increment(n), // with the exemplar of a sampled trace, if in one
            |r, key| r.register_counter(key, &META).increment(n),
        );
    }
}

impl Gauge {
    #[doc(hidden)]
    pub const fn new(decl: &'static MetricDecl) -> Self {
        Gauge(Series::new(decl))
    }

    /// Sets the series of `labels` to `value`.
    #[inline]
    pub fn set<L: Labels + ?Sized>(&self, value: f64, labels: &L) {
        self.with(labels, |g| g.set(value));
    }

    /// Adds `delta` to the series of `labels`.
    #[inline]
    pub fn increment<L: Labels + ?Sized>(&self, delta: f64, labels: &L) {
        self.with(labels, |g| g.increment(delta));
    }

    /// Subtracts `delta` from the series of `labels`.
    #[inline]
    pub fn decrement<L: Labels + ?Sized>(&self, delta: f64, labels: &L) {
        self.with(labels, |g| g.decrement(delta));
    }

    #[inline]
    fn with<L: Labels + ?Sized>(&self, labels: &L, f: impl Fn(&metrics::Gauge)) {
        self.0.record(labels, Store::gauge, &f, |r, key| {
            f(&r.register_gauge(key, &META));
        });
    }
}

impl Histogram {
    #[doc(hidden)]
    pub const fn new(decl: &'static MetricDecl) -> Self {
        Histogram(Series::new(decl))
    }

    /// Records `value` in the series of `labels`.
    #[inline]
    pub fn record<L: Labels + ?Sized>(&self, value: f64, labels: &L) {
        let bounds = self.0.decl.buckets;
        self.0.record(
            labels,
            |store, key| store.histogram(key, bounds),
            |histogram| histogram.record(value),
            |r, key| r.register_histogram(key, &META).record(value),
        );
    }
}

impl CallbackGauge {
    #[doc(hidden)]
    pub const fn new(decl: &'static MetricDecl) -> Self {
        CallbackGauge {
            decl,
            read: RwLock::new(None),
            listed: Once::new(),
            panic_logged: AtomicBool::new(false),
        }
    }

    /// Makes `read` the gauge's callback, replacing the one registered before: at each scrape it is
    /// called with a function to call with each label set's value and label values.
    pub fn register(
        &'static self,
        read: impl FnMut(&mut dyn FnMut(f64, &[&str])) + Send + 'static,
    ) {
        let read: Callback = Box::new(read);
        *self.read.write().unwrap_or_else(PoisonError::into_inner) =
            Some(Arc::new(Mutex::new(read)));
        self.listed.call_once(|| {
            CALLBACK_GAUGES
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(self);
        });
    }

    /// Runs the callback: one sample per label set it reports (the last value, if it reports one
    /// twice), at most the metric's cap of them; values past the cap are summed under
    /// `__overflow__`. `None` without a callback, or when it panics.
    fn read(&self, store: &Store) -> Option<ReadFamily> {
        let read = self
            .read
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()?;
        let cap = store.cap(self.decl.name);
        let mut values: BTreeMap<Vec<String>, f64> = BTreeMap::new();
        let mut overflow: Option<f64> = None;
        let mut overflowed = 0usize;
        let mut read = read.lock().unwrap_or_else(PoisonError::into_inner);
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
            (*read)(&mut |value, labels| {
                let labels: Vec<String> = labels.iter().map(|l| l.to_string()).collect();
                if values.len() < cap || values.contains_key(&labels) {
                    values.insert(labels, value);
                } else {
                    *overflow.get_or_insert(0.0) += value;
                    overflowed += 1;
                }
            });
        }));
        if outcome.is_err() {
            if !self.panic_logged.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    target: "mvi",
                    metric = self.decl.name,
                    "the callback of a gauge panicked; its series are left out of the scrapes where it does"
                );
            }
            return None;
        }
        for _ in 0..overflowed {
            store.overflowed(self.decl.name);
        }
        let names: Vec<&'static str> = self.decl.label_names();
        let overflow = overflow.map(|sum| (vec![OVERFLOW_VALUE.to_string(); names.len()], sum));
        let samples = values
            .into_iter()
            .chain(overflow)
            .map(|(labels, value)| (key(self.decl, &labels), value))
            .collect();
        Some(ReadFamily {
            name: self.decl.name,
            help: self.decl.help,
            samples,
        })
    }
}

/// Reads every gauge that has a callback: what `/metrics` shows of them at this scrape.
pub(crate) fn read_callbacks(store: &Store) -> Vec<ReadFamily> {
    let gauges = CALLBACK_GAUGES
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    gauges.iter().filter_map(|g| g.read(store)).collect()
}

/// The series of one declared metric, made after install: every combination of a closed label set at
/// its first call, an open label set at its own first call.
struct Series<H: 'static> {
    decl: &'static MetricDecl,
    /// Every combination of a closed label set, by [`Labels::index`]; `None` when there are more of
    /// them than the metric's cap, which then go through `open`. Set only once mvi is installed.
    table: OnceLock<Option<Box<[H]>>>,
    /// Open label sets, capped.
    open: OnceLock<LabelSets<&'static H>>,
}

impl<H: 'static> Series<H> {
    const fn new(decl: &'static MetricDecl) -> Self {
        Series {
            decl,
            table: OnceLock::new(),
            open: OnceLock::new(),
        }
    }

    /// Records with `record` in the series of `labels` (made by `make` the first time), or, before
    /// install, through the `metrics` facade with `facade`. The series of a closed label set, once
    /// its table is made, is one load and an index, inlined at the call, with no need to ask whether
    /// mvi is installed; the rest is out of line.
    #[inline]
    fn record<L: Labels + ?Sized>(
        &self,
        labels: &L,
        make: impl Fn(&Store, &Key) -> H,
        record: impl FnOnce(&H),
        facade: impl FnOnce(&dyn Recorder, &Key),
    ) {
        if const { combinations(L::VALUES).is_some() } {
            if let Some(Some(table)) = self.table.get() {
                if let Some(series) = table.get(labels.index()) {
                    return record(series);
                }
            }
        }
        self.record_uncached(labels, make, record, facade);
    }

    #[inline(never)]
    fn record_uncached<L: Labels + ?Sized>(
        &self,
        labels: &L,
        make: impl Fn(&Store, &Key) -> H,
        record: impl FnOnce(&H),
        facade: impl FnOnce(&dyn Recorder, &Key),
    ) {
        match global::installed() {
            Some(installed) => record(self.get(&installed.store, labels, make)),
            None => {
                global::with_facade(|r| {
                    labels.with_values(|values| facade(r, &key(self.decl, values)));
                });
            }
        }
    }

    /// The series of `labels` after install: the table of a closed label set, made by `make` at its
    /// first call (unless it has more combinations than the cap), or the capped cache of open ones.
    fn get<L: Labels + ?Sized>(
        &self,
        store: &Store,
        labels: &L,
        make: impl Fn(&Store, &Key) -> H,
    ) -> &H {
        let decl = self.decl;
        if let Some(size) = const { combinations(L::VALUES) } {
            let table = self.table.get_or_init(|| {
                (size <= store.cap(decl.name)).then(|| {
                    (0..size)
                        .map(|i| make(store, &key(decl, &combination(L::VALUES, i))))
                        .collect()
                })
            });
            if let Some(table) = table {
                return &table[labels.index()];
            }
        }
        labels.with_values(|values| {
            self.open
                .get_or_init(LabelSets::new)
                .get(store, decl.name, values, |values| {
                    // Capped by the store, so leaking one handle per label set is bounded memory.
                    &*Box::leak(Box::new(make(store, &key(decl, values))))
                })
        })
    }
}

/// The label values of combination `index` of a closed label set, in the order of [`Labels::index`]
/// (row-major over `values`, the first label the most significant).
fn combination(values: &[Option<&'static [&'static str]>], mut index: usize) -> Vec<&'static str> {
    let mut out = vec![""; values.len()];
    for (slot, set) in out.iter_mut().zip(values).rev() {
        let set = set.unwrap_or_default();
        if let Some(value) = set.get(index % set.len().max(1)) {
            *slot = value;
        }
        index /= set.len().max(1);
    }
    out
}

/// The key of one series of `decl`.
fn key(decl: &MetricDecl, values: &[impl AsRef<str>]) -> Key {
    let labels: Vec<Label> = decl
        .labels
        .iter()
        .chain(decl.typed_labels)
        .zip(values)
        .map(|(name, value)| Label::new(*name, value.as_ref().to_string()))
        .collect();
    Key::from_parts(decl.name, labels)
}

/// The label set of a metric without labels.
#[derive(Debug)]
pub struct Unlabelled;

impl Labels for Unlabelled {
    const NAMES: &'static [&'static str] = &[];
    const VALUES: &'static [Option<&'static [&'static str]>] = &[];

    #[inline]
    fn index(&self) -> usize {
        0
    }

    #[inline]
    fn with_values<R>(&self, f: impl FnOnce(&[&str]) -> R) -> R {
        f(&[])
    }
}

/// Autoref specialisation for the label values of a call: `(&WithLabels(&values)).__mvi_labels()` is
/// the values themselves when they implement [`Labels`] ([`LabelsOf`]), and [`Unlabelled`] otherwise
/// ([`NotLabels`]). The second case never compiles: a label type that is not a `LabelValue` is reported
/// once, at its declaration, and this keeps every method from reporting it again.
pub trait LabelsOf<'a> {
    /// The label set.
    type Labels: Labels + ?Sized + 'a;
    /// The values, as a label set.
    fn __mvi_labels(&self) -> &'a Self::Labels;
}

impl<'a, L: Labels + ?Sized> LabelsOf<'a> for WithLabels<'a, L> {
    type Labels = L;

    #[inline(always)]
    fn __mvi_labels(&self) -> &'a L {
        self.0
    }
}

/// Values that are not a label set: a compile error is already reported at the declaration.
pub trait NotLabels {
    /// No labels.
    fn __mvi_labels(&self) -> &'static Unlabelled;
}

impl<L: ?Sized> NotLabels for &WithLabels<'_, L> {
    fn __mvi_labels(&self) -> &'static Unlabelled {
        &Unlabelled
    }
}

macro_rules! debug_by_name {
    ($($ty:ident $($field:tt).+;)*) => {$(
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("name", &self.$($field).+.name)
                    .finish_non_exhaustive()
            }
        }
    )*};
}
debug_by_name!(Counter 0.decl; Gauge 0.decl; Histogram 0.decl; CallbackGauge decl;);

#[cfg(test)]
mod tests {
    use super::*;

    /// Combination `i` has the values whose label set has index `i`.
    #[test]
    fn combinations_follow_the_index() {
        type Set<'a> = (&'a bool, &'a bool, &'a bool);
        let all: Vec<(bool, bool, bool)> = (0..8)
            .map(|i| (i & 4 != 0, i & 2 != 0, i & 1 != 0))
            .collect();
        for (a, b, c) in all {
            let set: Set<'_> = (&a, &b, &c);
            let values = combination(<Set<'_> as Labels>::VALUES, set.index());
            set.with_values(|expected| assert_eq!(values, expected));
        }
        assert_eq!(combination(&[], 0), Vec::<&str>::new());
    }
}
