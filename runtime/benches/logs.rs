//! The cost of one JSON log event on the thread that logs it: mvi's layer against tracing-subscriber's
//! JSON formatter, side by side in one run.
//!
//! Every case logs `tracing::info!(order_id = 42, region = "eu", express = true, "order placed")`
//! inside an entered span carrying `trace_id`, `span_id` and `request_id`, as a request's line is.
//!
//! - `tracing_subscriber_json`: `tracing_subscriber::fmt().json()` with the current span's fields,
//!   file and line and the event's fields flattened (the line closest to mvi's), writing to
//!   `io::sink()` on the logging thread; set as the scoped default for its case.
//! - `mvi`: mvi's layer as `install()` sets it up, its budget off (`log_rate_limit(0)`) so that every
//!   line is written: the logging thread formats the line and queues it; the writer thread writes it
//!   to a sink on the other core.
//! - `mvi_access_line`: the access line `#[traced_handler]` writes per request (target `mvi::access`,
//!   `method`, `route`, `status`, `duration_ms`).
//! - `mvi_sampled_out`: a DEBUG line that sampling drops (`debug_sample_ratio(0.0)`): what a line over
//!   the budget costs, decided before any formatting.
//!
//! `cargo bench -p mvi --bench logs` prints criterion's report, then one table of ratios to
//! tracing-subscriber's, and how many lines the queue had no room for: a line the queue refuses was
//! formatted all the same and costs the logging thread about as much, but a count far from zero says
//! the writer thread did not get the other core.

mod common;

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{Bencher, Criterion};

const GROUP: &str = "json_event";

/// Runs `f` inside an entered request span of the current default subscriber.
fn in_request_span(f: impl FnOnce()) {
    let span = tracing::info_span!(
        "request",
        trace_id = "4bf92f3577b34da6a3ce929d0e0e4736",
        span_id = "00f067aa0ba902b7",
        request_id = "5c3a1f7e-0d2b-4c59-9a44-1d0f3b7e8a21",
    );
    let _entered = span.enter();
    f();
}

/// Lines mvi was asked to write (besides its own), and lines its writer thread wrote.
static LOGGED: AtomicU64 = AtomicU64::new(0);
static WRITTEN: AtomicU64 = AtomicU64::new(0);

fn event() {
    tracing::info!(
        order_id = black_box(42u64),
        region = "eu",
        express = true,
        "order placed"
    );
}

fn access_line() {
    tracing::info!(
        target: "mvi::access",
        method = "GET",
        route = "/orders/{id}",
        status = black_box(200u16),
        duration_ms = 0.412,
        "request"
    );
}

fn sampled_out() {
    tracing::debug!(order_id = black_box(42u64), "a detail nobody keeps");
}

/// Times `log` as `Bencher::iter` would, counting the lines it asks mvi to write.
fn logged(b: &mut Bencher<'_>, log: fn()) {
    b.iter_custom(|iterations| {
        LOGGED.fetch_add(iterations, Relaxed);
        let start = Instant::now();
        (0..iterations).for_each(|_| log());
        start.elapsed()
    });
}

fn benches(c: &mut Criterion) {
    let mut group = c.benchmark_group(GROUP);
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    let json = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .flatten_event(true)
        .with_file(true)
        .with_line_number(true)
        .with_writer(std::io::sink)
        .finish();
    tracing::subscriber::with_default(json, || {
        in_request_span(|| {
            group.bench_function("tracing_subscriber_json", |b| b.iter(event));
        })
    });
    // mvi's subscriber is the global default.
    in_request_span(|| {
        group.bench_function("mvi", |b| logged(b, event));
        group.bench_function("mvi_access_line", |b| logged(b, access_line));
        group.bench_function("mvi_sampled_out", |b| b.iter(sampled_out));
    });
    group.finish();
}

/// Counts the lines mvi's writer thread writes.
struct CountLines;

impl std::io::Write for CountLines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let lines = buf.iter().filter(|b| **b == b'\n').count();
        WRITTEN.fetch_add(lines as u64, Relaxed);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn main() {
    let builder = mvi::Telemetry::builder()
        .log_output(mvi::LogOutput::Writer(Arc::new(Mutex::new(CountLines))))
        .log_filter("debug")
        .debug_sample_ratio(0.0)
        .log_rate_limit(0);
    // Dropping the `Telemetry` at the end writes every queued line.
    common::run(builder, benches);

    common::print_table(
        GROUP,
        "tracing_subscriber_json",
        &[
            "tracing_subscriber_json",
            "mvi",
            "mvi_access_line",
            "mvi_sampled_out",
        ],
        None,
    );
    let (logged, written) = (LOGGED.load(Relaxed), WRITTEN.load(Relaxed));
    println!(
        "\nlines the queue had no room for: {} of {logged}",
        logged.saturating_sub(written)
    );
}
