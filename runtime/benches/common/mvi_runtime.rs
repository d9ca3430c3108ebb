//! What the benchmarks of async code share: a current-thread runtime, entered, and mvi installed with
//! its JSON logs written to a sink, and the access line off: the peers write no line per request at
//! INFO, and the `logs` benchmark measures the line (`mvi_access_line`).

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
    let builder = mvi::Telemetry::builder()
        .log_output(mvi::LogOutput::Writer(Arc::new(
            Mutex::new(std::io::sink()),
        )))
        .log_filter(filter.unwrap_or(mvi::DEFAULT_LOG_FILTER))
        .access_log(false);
    crate::common::run(builder, |c| benches(c, &rt));
}
