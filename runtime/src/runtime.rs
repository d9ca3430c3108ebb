//! Process-wide state set once by `install`.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use metrics::{Key, Label, Recorder};

use crate::recorder::MviRecorder;

pub(crate) struct Runtime {
    pub(crate) recorder: MviRecorder,
    pub(crate) clock: quanta::Clock,
    /// Cap on distinct label sets per metric, unless its declaration sets its own.
    pub(crate) max_series: usize,
    /// Open label sets recorded so far, per metric name (every call site of the name together).
    pub(crate) series: Mutex<HashMap<&'static str, usize>>,
}

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// The installed runtime, if `install` has run.
#[inline]
pub(crate) fn get() -> Option<&'static Runtime> {
    RUNTIME.get()
}

/// Sets the runtime; `false` if one was set already.
pub(crate) fn set(rt: Runtime) -> bool {
    RUNTIME.set(rt).is_ok()
}

pub(crate) const OVERFLOW_METRIC: &str = "mvi_series_overflow_total";

impl Runtime {
    /// Counts one more open label set of `metric`; `false` once the metric has `cap` of them.
    pub(crate) fn admit_series(&self, metric: &'static str, cap: usize) -> bool {
        let mut series = self.series.lock().unwrap_or_else(|e| e.into_inner());
        let count = series.entry(metric).or_default();
        if *count >= cap {
            return false;
        }
        *count += 1;
        true
    }

    /// A call site hit its series cap: say so (the caller does this once) and return the counter of
    /// calls recorded under `__overflow__`.
    pub(crate) fn series_overflowed(
        &self,
        metric: &'static str,
        function: &str,
        labels: &[&str],
        cap: usize,
    ) -> metrics::Counter {
        let key = Key::from_parts(
            OVERFLOW_METRIC,
            vec![Label::from_static_parts("metric", metric)],
        );
        static META: metrics::Metadata<'static> =
            metrics::Metadata::new(module_path!(), metrics::Level::WARN, Some(module_path!()));
        tracing::warn!(
            metric,
            function,
            labels = ?labels,
            cap,
            "label cardinality cap reached; further new label sets are recorded as `__overflow__`"
        );
        self.recorder.register_counter(&key, &META)
    }
}
