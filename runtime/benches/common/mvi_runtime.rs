//! What the benchmarks of async code share: a current-thread runtime, entered, and mvi installed with
//! its JSON logs written to a sink.

use std::sync::{Arc, Mutex};

/// Runs `bench` on a current-thread runtime, entered, with mvi installed (its default log filter
/// unless `filter` says otherwise).
pub(crate) fn run(filter: Option<&str>, bench: impl FnOnce(&tokio::runtime::Runtime)) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _guard = rt.enter();
    let _telemetry = mvi::Telemetry::builder()
        .without_admin_server()
        .log_output(mvi::LogOutput::Writer(Arc::new(
            Mutex::new(std::io::sink()),
        )))
        .log_filter(filter.unwrap_or(mvi::DEFAULT_LOG_FILTER))
        .install()
        .expect("install mvi");
    bench(&rt);
}
