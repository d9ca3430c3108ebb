//! Process-wide state set once by `install`.

use std::sync::OnceLock;

use metrics::{Key, Label, Recorder};

use crate::recorder::MviRecorder;

pub(crate) struct Runtime {
    pub(crate) recorder: MviRecorder,
    pub(crate) clock: quanta::Clock,
    /// Cap on distinct label sets per `labels(...)` call site.
    pub(crate) max_series: usize,
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
    /// A call site hit its series cap: say so (the caller does this once) and return the counter of
    /// calls recorded under `__overflow__`.
    pub(crate) fn series_overflowed(
        &self,
        metric: &'static str,
        function: &str,
        labels: &[&str],
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
            cap = self.max_series,
            "label cardinality cap reached; further new label sets are recorded as `__overflow__`"
        );
        self.recorder.register_counter(&key, &META)
    }
}
