//! Call sites of `#[observe]`: cached handles and the drop guard that records a call.
//!
//! A call site creates its handles the first time it runs after [`install`](crate::TelemetryBuilder::install)
//! and keeps them: with static labels a call is two clock reads, one counter increment, one bucket
//! increment and one sum update, with no lookup, hashing or allocation. Before mvi is installed every call
//! goes through the `metrics` facade, so whatever recorder is current (a test's in-memory one, say) sees it,
//! and no handle made then outlives the moment.

use std::hash::{BuildHasher, RandomState};
use std::sync::{OnceLock, RwLock};
use std::time::Instant;

use hashbrown::HashTable;
use metrics::{Counter, Gauge, Histogram, Key, Label, Level, Metadata, Recorder};

use crate::catalog::MetricDecl;
use crate::runtime::{self, Runtime};

/// How a call ended; the value of the `result` label.
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

/// The value every user label takes once a call site has reached its series cap.
pub const OVERFLOW_VALUE: &str = "__overflow__";

static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

/// The handles of one label set of one call site.
#[derive(Debug)]
pub(crate) struct Handles {
    calls: [Counter; 3],
    duration: Histogram,
    concurrent: Gauge,
}

/// One `#[observe]`d function. Built by the macro as a `static`.
#[derive(Debug)]
pub struct Site {
    calls: Option<&'static MetricDecl>,
    duration: Option<&'static MetricDecl>,
    concurrent: Option<&'static MetricDecl>,
    function: &'static str,
    module: &'static str,
    labels: &'static [&'static str],
    /// Only an `async fn` can end `cancelled`.
    is_async: bool,
    /// `Type::method` for lone methods, resolved at the first call.
    method_name: OnceLock<&'static str>,
    fixed: OnceLock<Handles>,
    dynamic: OnceLock<Dynamic>,
}

/// One label set's values and its handles.
type LabelSet = (Box<[Box<str>]>, &'static Handles);

/// Label sets seen at a call site with `labels(...)`, capped.
#[derive(Debug)]
struct Dynamic {
    hasher: RandomState,
    table: RwLock<HashTable<LabelSet>>,
    /// The `__overflow__` handles and the call site's `mvi_series_overflow_total` counter.
    overflow: OnceLock<(Handles, Counter)>,
}

impl Site {
    #[doc(hidden)]
    pub const fn new(
        calls: Option<&'static MetricDecl>,
        duration: Option<&'static MetricDecl>,
        concurrent: Option<&'static MetricDecl>,
        function: &'static str,
        module: &'static str,
        labels: &'static [&'static str],
        is_async: bool,
    ) -> Self {
        Site {
            calls,
            duration,
            concurrent,
            function,
            module,
            labels,
            is_async,
            method_name: OnceLock::new(),
            fixed: OnceLock::new(),
            dynamic: OnceLock::new(),
        }
    }

    /// Starts timing a call. `self_type` is `type_name::<Self>()` for lone methods; `values` are the user
    /// label values in declaration order.
    #[inline]
    pub fn start(&'static self, self_type: Option<&'static str>, values: &[&str]) -> Guard {
        match runtime::get() {
            Some(rt) => {
                let handles = if values.is_empty() {
                    self.fixed
                        .get_or_init(|| self.make_handles(&rt.recorder, self_type, values))
                } else {
                    self.dynamic_handles(rt, self_type, values)
                };
                handles.concurrent.increment(1.0);
                Guard {
                    state: State::Installed {
                        handles,
                        clock: &rt.clock,
                        start: rt.clock.raw(),
                    },
                    outcome: None,
                }
            }
            None => {
                let handles = metrics::with_recorder(|r| self.make_handles(r, self_type, values));
                handles.concurrent.increment(1.0);
                Guard {
                    state: State::Facade {
                        handles: Box::new(handles),
                        start: Instant::now(),
                    },
                    outcome: None,
                }
            }
        }
    }

    fn function(&self, self_type: Option<&'static str>) -> &'static str {
        match self_type {
            None => self.function,
            Some(t) => self.method_name.get_or_init(|| {
                let base = t.split('<').next().unwrap_or(t);
                let ty = base.rsplit("::").next().unwrap_or(base);
                Box::leak(format!("{ty}::{}", self.function).into_boxed_str())
            }),
        }
    }

    fn make_handles(
        &self,
        recorder: &dyn Recorder,
        self_type: Option<&'static str>,
        values: &[&str],
    ) -> Handles {
        let function = self.function(self_type);
        let key = |decl: &MetricDecl, result: Option<&'static str>| {
            let mut labels = Vec::with_capacity(3 + values.len());
            labels.push(Label::from_static_parts("function", function));
            labels.push(Label::from_static_parts("module", self.module));
            if let Some(r) = result {
                labels.push(Label::from_static_parts("result", r));
            }
            for (name, value) in self.labels.iter().zip(values) {
                labels.push(Label::new(*name, value.to_string()));
            }
            Key::from_parts(decl.name, labels)
        };
        let counter = |i: usize| match self.calls {
            Some(d) if i != Outcome::Cancelled as usize || self.is_async => {
                recorder.register_counter(&key(d, Some(Outcome::LABELS[i])), &METADATA)
            }
            _ => Counter::noop(),
        };
        Handles {
            calls: [counter(0), counter(1), counter(2)],
            duration: self.duration.map_or_else(Histogram::noop, |d| {
                recorder.register_histogram(&key(d, None), &METADATA)
            }),
            concurrent: self.concurrent.map_or_else(Gauge::noop, |d| {
                recorder.register_gauge(&key(d, None), &METADATA)
            }),
        }
    }

    fn dynamic_handles(
        &'static self,
        rt: &Runtime,
        self_type: Option<&'static str>,
        values: &[&str],
    ) -> &'static Handles {
        let dynamic = self.dynamic.get_or_init(|| Dynamic {
            hasher: RandomState::new(),
            table: RwLock::new(HashTable::new()),
            overflow: OnceLock::new(),
        });
        let hash = dynamic.hasher.hash_one(values);
        let eq = |entry: &LabelSet| {
            entry.0.len() == values.len() && entry.0.iter().zip(values).all(|(a, b)| &**a == *b)
        };
        if let Some((_, h)) = dynamic
            .table
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .find(hash, eq)
        {
            return h;
        }
        let mut table = dynamic.table.write().unwrap_or_else(|e| e.into_inner());
        if let Some((_, h)) = table.find(hash, eq) {
            return h;
        }
        if table.len() >= rt.max_series {
            drop(table);
            let (handles, overflowed) = dynamic.overflow.get_or_init(|| {
                let name = self
                    .calls
                    .or(self.duration)
                    .or(self.concurrent)
                    .map_or("", |d| d.name);
                let counter = rt.series_overflowed(name, self.function(self_type), self.labels);
                let overflow = vec![OVERFLOW_VALUE; values.len()];
                (
                    self.make_handles(&rt.recorder, self_type, &overflow),
                    counter,
                )
            });
            overflowed.increment(1);
            return handles;
        }
        // Capped above, so leaking one set of handles per label set is bounded memory.
        let handles: &'static Handles =
            Box::leak(Box::new(self.make_handles(&rt.recorder, self_type, values)));
        let stored: Box<[Box<str>]> = values.iter().map(|v| Box::from(*v)).collect();
        table.insert_unique(hash, (stored, handles), |e| dynamic.hasher.hash_one(&*e.0));
        handles
    }
}

enum State {
    Installed {
        handles: &'static Handles,
        clock: &'static quanta::Clock,
        start: u64,
    },
    Facade {
        handles: Box<Handles>,
        start: Instant,
    },
}

/// Records one call when dropped: with the outcome given to [`finish`](Guard::finish), as `error` while
/// unwinding from a panic, and as `cancelled` when an `async fn`'s future is dropped before it finishes.
#[must_use]
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
        let (handles, seconds) = match &self.state {
            State::Installed {
                handles,
                clock,
                start,
            } => (
                *handles,
                clock.delta_as_nanos(*start, clock.raw()) as f64 * 1e-9,
            ),
            State::Facade { handles, start } => (&**handles, start.elapsed().as_secs_f64()),
        };
        handles.calls[outcome as usize].increment(1);
        handles.duration.record(seconds);
        handles.concurrent.decrement(1.0);
    }
}
