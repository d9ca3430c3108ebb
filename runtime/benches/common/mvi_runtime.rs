//! What the benchmarks of async code share: a current-thread runtime, entered, and mvi installed with
//! its JSON logs written to a sink, and the access line off: the peers write no line per request at
//! INFO, and the `logs` benchmark measures the line (`mvi_access_line`).

// Each benchmark uses what it needs of these.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use criterion::Criterion;

/// Runs `benches` on a current-thread runtime, entered, with mvi installed (its default log filter
/// unless `filter` says otherwise) through [`crate::common::run`].
pub(crate) fn run(
    filter: Option<&str>,
    benches: impl FnOnce(&mut Criterion, &tokio::runtime::Runtime),
) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _guard = rt.enter();
    crate::common::run(builder(filter), |c| benches(c, &rt));
}

/// mvi as the benchmarks install it: JSON logs to a sink, its default log filter unless `filter`
/// says otherwise, the access line off.
pub(crate) fn builder(filter: Option<&str>) -> mvi::TelemetryBuilder {
    mvi::Telemetry::builder()
        .log_output(mvi::LogOutput::Writer(Arc::new(
            Mutex::new(std::io::sink()),
        )))
        .log_filter(filter.unwrap_or(mvi::DEFAULT_LOG_FILTER))
        .access_log(false)
}
