//! Call sites of `#[observe]`: cached handles and the drop guard that records a call.
//!
//! A call site creates its handles the first time it runs after [`install`](crate::TelemetryBuilder::install)
//! and keeps them: with static labels a call is two clock reads, one counter increment, one bucket
//! increment and one sum update, with no lookup, hashing or allocation. Before mvi is installed every call
//! goes through the `metrics` facade, so whatever recorder is current (a test's in-memory one, say) sees it,
//! and no handle made then outlives the moment; with no recorder at all, a call records and allocates
//! nothing ([`global::with_facade`]).

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use metrics::{Counter, Gauge, Histogram, Key, Label, Level, Metadata, Recorder};

use crate::catalog::MetricDecl;
use crate::global::{self, Installed};
use crate::label::{Labels, combinations};
use crate::series::{self, DEFAULT_BUCKETS, FixedHistogram, LabelSets, NativeCounter, Store};

/// How a call ended; the value of the `result` label.
///
/// # Examples
///
/// The `result` label of `function_calls_total` says which one:
///
/// ```
/// #[mvi::observe]
/// fn parse(s: &str) -> Result<u32, std::num::ParseIntError> {
///     s.parse()
/// }
///
/// let recorder = metrics_util::debugging::DebuggingRecorder::new();
/// let snapshotter = recorder.snapshotter();
/// metrics::with_local_recorder(&recorder, || {
///     parse("12").unwrap();            // Outcome::Ok
///     parse("twelve").unwrap_err();    // Outcome::Error
/// });
/// let results: Vec<String> = snapshotter
///     .snapshot()
///     .into_vec()
///     .into_iter()
///     .filter(|(key, ..)| key.key().name() == "function_calls_total")
///     .filter_map(|(key, ..)| key.key().labels().find(|l| l.key() == "result").map(|l| l.value().to_string()))
///     .collect();
/// assert_eq!(results.len(), 2);
/// assert!(results.contains(&"ok".to_string()) && results.contains(&"error".to_string()));
/// assert_eq!(format!("{:?}", mvi::Outcome::Cancelled), "Cancelled");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Returned normally (and, for `Result`, `Ok`).
    Ok = 0,
    /// Returned `Err`, matched `error_if`, or panicked.
    Error = 1,
    /// An `async fn` whose future was dropped before it finished.
    Cancelled = 2,
}

impl Outcome {
    const LABELS: [&'static str; 3] = ["ok", "error", "cancelled"];
}

static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

/// The series of one label set of one call site, held directly once mvi is installed.
#[derive(Debug)]
pub(crate) struct Handles {
    calls: [Option<Arc<NativeCounter>>; 3],
    duration: Option<Arc<FixedHistogram>>,
    concurrent: Gauge,
}

/// The same through the `metrics` facade, before mvi is installed.
#[derive(Debug)]
struct FacadeHandles {
    calls: [Counter; 3],
    duration: Histogram,
    concurrent: Gauge,
}

/// The keys of one label set of one call site.
struct Keys {
    calls: [Option<Key>; 3],
    duration: Option<Key>,
    concurrent: Option<Key>,
}

/// What the macro knows about one `#[observe]`d function.
#[derive(Debug)]
pub struct SiteInfo {
    /// The call counter, if recorded.
    pub calls: Option<&'static MetricDecl>,
    /// The duration histogram, if recorded.
    pub duration: Option<&'static MetricDecl>,
    /// The in-flight gauge, if recorded.
    pub concurrent: Option<&'static MetricDecl>,
    /// The `function` label (the method name alone for lone methods).
    pub function: &'static str,
    /// The `module` label.
    pub module: &'static str,
    /// User label names: those with literal values first, then those read per call.
    pub labels: &'static [&'static str],
    /// Values of the first `static_values.len()` labels.
    pub static_values: &'static [&'static str],
    /// Only an `async fn` can end `cancelled`.
    pub is_async: bool,
}

/// One `#[observe]`d function and its cached handles. Built by the macro as a `static`.
#[derive(Debug)]
pub struct Site {
    info: SiteInfo,
    /// `Type::method` for lone methods, resolved at the first call.
    method_name: OnceLock<&'static str>,
    /// Handles when no label is read per call.
    fixed: OnceLock<Handles>,
    /// Handles of every combination of a closed label set, by [`Labels::index`]; `None` when the
    /// set has more combinations than the metric's cap, which then go through `dynamic`.
    table: OnceLock<Option<Box<[OnceLock<Handles>]>>>,
    /// Handles of open label sets, capped.
    dynamic: OnceLock<LabelSets<&'static Handles>>,
}

impl Site {
    #[doc(hidden)]
    pub const fn new(info: SiteInfo) -> Self {
        Site {
            info,
            method_name: OnceLock::new(),
            fixed: OnceLock::new(),
            table: OnceLock::new(),
            dynamic: OnceLock::new(),
        }
    }

    /// Starts timing a call whose labels are all known at compile time. `self_type` is
    /// `type_name::<Self>()` for lone methods.
    #[inline]
    pub fn start(&'static self, self_type: Option<&'static str>) -> Guard {
        match global::installed() {
            Some(installed) => {
                let handles = self
                    .fixed
                    .get_or_init(|| self.make_handles(&installed.store, self_type, &[]));
                Guard::installed(handles, installed)
            }
            None => Guard::facade(|r| self.facade_handles(r, self_type, &[])),
        }
    }

    /// Starts timing a call with labels read from its arguments.
    #[inline]
    pub fn start_with<L: Labels + ?Sized>(
        &'static self,
        self_type: Option<&'static str>,
        labels: &L,
    ) -> Guard {
        match global::installed() {
            Some(installed) => {
                let store = &installed.store;
                let table = match const { combinations(L::VALUES) } {
                    Some(size) => self.table(store, size),
                    None => None,
                };
                let handles = match table {
                    Some(table) => table[labels.index()].get_or_init(|| {
                        labels.with_values(|values| self.make_handles(store, self_type, values))
                    }),
                    None => {
                        labels.with_values(|values| self.dynamic_handles(store, self_type, values))
                    }
                };
                Guard::installed(handles, installed)
            }
            None => Guard::facade(|r| {
                labels.with_values(|values| self.facade_handles(r, self_type, values))
            }),
        }
    }

    /// The table of a closed label set of `size` combinations, unless that is more than the cap.
    fn table(&self, store: &Store, size: usize) -> Option<&[OnceLock<Handles>]> {
        self.table
            .get_or_init(|| {
                (size <= store.cap(self.primary_metric()))
                    .then(|| (0..size).map(|_| OnceLock::new()).collect())
            })
            .as_deref()
    }

    /// The metric a label set is counted against: the first this site records.
    fn primary_metric(&self) -> &'static str {
        self.info
            .calls
            .or(self.info.duration)
            .or(self.info.concurrent)
            .map_or("", |d| d.name)
    }

    /// The `module` label.
    pub(crate) fn module(&self) -> &'static str {
        self.info.module
    }

    /// The `function` label: `Type::method` for lone methods, from `self_type` at the first call.
    pub(crate) fn function(&self, self_type: Option<&'static str>) -> &'static str {
        match self_type {
            None => self.info.function,
            Some(t) => self.method_name.get_or_init(|| {
                let base = t.split('<').next().unwrap_or(t);
                let ty = base.rsplit("::").next().unwrap_or(base);
                Box::leak(format!("{ty}::{}", self.info.function).into_boxed_str())
            }),
        }
    }

    fn keys(&self, self_type: Option<&'static str>, values: &[&str]) -> Keys {
        let function = self.function(self_type);
        let key = |decl: &MetricDecl, result: Option<&'static str>| {
            let mut labels = Vec::with_capacity(3 + values.len());
            labels.push(Label::from_static_parts("function", function));
            labels.push(Label::from_static_parts("module", self.info.module));
            if let Some(r) = result {
                labels.push(Label::from_static_parts("result", r));
            }
            let (fixed, read) = self
                .info
                .labels
                .split_at(self.info.static_values.len().min(self.info.labels.len()));
            for (name, value) in fixed.iter().zip(self.info.static_values) {
                labels.push(Label::from_static_parts(name, value));
            }
            for (name, value) in read.iter().zip(values) {
                labels.push(Label::new(*name, value.to_string()));
            }
            Key::from_parts(decl.name, labels)
        };
        let call = |i: usize| match self.info.calls {
            Some(d) if i != Outcome::Cancelled as usize || self.info.is_async => {
                Some(key(d, Some(Outcome::LABELS[i])))
            }
            _ => None,
        };
        Keys {
            calls: [call(0), call(1), call(2)],
            duration: self.info.duration.map(|d| key(d, None)),
            concurrent: self.info.concurrent.map(|d| key(d, None)),
        }
    }

    fn make_handles(
        &self,
        store: &Store,
        self_type: Option<&'static str>,
        values: &[&str],
    ) -> Handles {
        let keys = self.keys(self_type, values);
        let bounds = self.info.duration.map_or(DEFAULT_BUCKETS, |d| d.buckets);
        Handles {
            calls: keys.calls.map(|k| k.map(|k| store.counter(&k))),
            duration: keys.duration.map(|k| store.histogram(&k, bounds)),
            concurrent: keys
                .concurrent
                .map_or_else(Gauge::noop, |k| store.gauge(&k)),
        }
    }

    fn facade_handles(
        &self,
        recorder: &dyn Recorder,
        self_type: Option<&'static str>,
        values: &[&str],
    ) -> FacadeHandles {
        let keys = self.keys(self_type, values);
        FacadeHandles {
            calls: keys.calls.map(|k| {
                k.map_or_else(Counter::noop, |k| recorder.register_counter(&k, &METADATA))
            }),
            duration: keys.duration.map_or_else(Histogram::noop, |k| {
                recorder.register_histogram(&k, &METADATA)
            }),
            concurrent: keys
                .concurrent
                .map_or_else(Gauge::noop, |k| recorder.register_gauge(&k, &METADATA)),
        }
    }

    fn dynamic_handles(
        &'static self,
        store: &Store,
        self_type: Option<&'static str>,
        values: &[&str],
    ) -> &'static Handles {
        self.dynamic.get_or_init(LabelSets::new).get(
            store,
            self.primary_metric(),
            values,
            |values| {
                // Capped by the store, so leaking one set of handles per label set is bounded memory.
                Box::leak(Box::new(self.make_handles(store, self_type, values)))
            },
        )
    }
}

enum State {
    Installed {
        handles: &'static Handles,
        clock: &'static quanta::Clock,
        start: u64,
    },
    Facade {
        handles: Box<FacadeHandles>,
        start: Instant,
    },
    /// Before install, with no recorder at all: nothing to record.
    Off,
}

/// Records one call when dropped: with the outcome given to [`finish`](Guard::finish), as `error` while
/// unwinding from a panic, and as `cancelled` when an `async fn`'s future is dropped before it finishes.
#[must_use = "the call is recorded when the guard drops"]
pub struct Guard {
    state: State,
    outcome: Option<Outcome>,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("outcome", &self.outcome)
            .finish_non_exhaustive()
    }
}

impl Guard {
    #[inline]
    fn installed(handles: &'static Handles, installed: &'static Installed) -> Guard {
        handles.concurrent.increment(1.0);
        Guard {
            state: State::Installed {
                handles,
                clock: &installed.clock,
                start: installed.clock.raw(),
            },
            outcome: None,
        }
    }

    /// Before install: through the current `metrics` recorder, if there is one.
    fn facade(handles: impl FnOnce(&dyn Recorder) -> FacadeHandles) -> Guard {
        let state = match global::with_facade(handles) {
            Some(handles) => {
                handles.concurrent.increment(1.0);
                State::Facade {
                    handles: Box::new(handles),
                    start: Instant::now(),
                }
            }
            None => State::Off,
        };
        Guard {
            state,
            outcome: None,
        }
    }

    /// The call returned with this outcome.
    #[inline]
    pub fn finish(mut self, outcome: Outcome) {
        self.outcome = Some(outcome);
    }
}

impl Drop for Guard {
    #[inline]
    fn drop(&mut self) {
        let outcome = self.outcome.unwrap_or_else(|| {
            if std::thread::panicking() {
                Outcome::Error
            } else {
                Outcome::Cancelled
            }
        });
        match &self.state {
            State::Installed {
                handles,
                clock,
                start,
            } => {
                // The clock is read once, if at all. Inside a sampled trace (a `#[traced_handler]`'s,
                // say) the samples keep its ids as exemplars; elsewhere that is one thread-local read.
                let mut end = None;
                let mut now = || *end.get_or_insert_with(|| clock.raw());
                let traced = series::in_trace(crate::context::current(), &mut now);
                if let Some(calls) = &handles.calls[outcome as usize] {
                    calls.add(1, traced.as_ref());
                }
                if let Some(duration) = &handles.duration {
                    let nanos = clock.delta_as_nanos(*start, now());
                    duration.record_nanos(nanos, traced.as_ref());
                }
                handles.concurrent.decrement(1.0);
            }
            State::Facade { handles, start } => {
                handles.calls[outcome as usize].increment(1);
                handles.duration.record(start.elapsed().as_secs_f64());
                handles.concurrent.decrement(1.0);
            }
            State::Off => {}
        }
    }
}
