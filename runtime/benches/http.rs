//! Per-request cost of `#[mvi::traced_handler]` over a bare axum handler, side by side in one run with
//! the usual stack of peers: tower-http's `TraceLayer` plus axum-prometheus' metrics layer.
//!
//! Every case serves `GET /orders/{id}` from an axum 0.8 `Router` through `tower::ServiceExt::oneshot`
//! (no socket, so the difference is the instrumentation alone) and reads the whole response body.
//! The request carries a `traceparent` header in every case.
//!
//! - `bare`: the handler as written, no instrumentation.
//! - `traced_handler`: the same handler with `#[mvi::traced_handler]`: trace context parsed, a server
//!   span, `http_requests_total` and `http_request_duration_seconds`, `traceparent` and
//!   `x-request-id` on the response.
//! - `trace_layer_and_metrics_layer`: the bare handler under `TraceLayer::new_for_http()` (its span
//!   raised to INFO so it is recorded as mvi's is) and `axum_prometheus::PrometheusMetricLayer`.
//!
//! Both instrumented cases run under the same subscriber (mvi's JSON logs, written to a sink) and the
//! same `metrics` recorder (mvi's, which hands undeclared metrics to metrics-exporter-prometheus).
//! mvi's access line is off (`access_log(false)`): the peers write no line per request at INFO.
//! `traced_handler_access_log` is `traced_handler` with it on: one JSON line a request, queued for the
//! writer thread (the `logs` benchmark measures the line alone, `mvi_access_line`).
//!
//! `cargo bench -p mvi --bench http` prints criterion's report, then one table: time per request,
//! ratio to `bare`, and overhead over `bare`.

mod common;
#[path = "common/mvi_runtime.rs"]
mod mvi_runtime;
#[path = "common/order.rs"]
mod order;

use std::hint::black_box;
use std::time::Duration;

use criterion::Criterion;
use tower_http::trace::{DefaultMakeSpan, TraceLayer};
use tracing::Level;

const GROUP: &str = "per_request";
fn benches(c: &mut Criterion, rt: &tokio::runtime::Runtime) {
    let cases = [
        ("bare", order::bare_router()),
        ("traced_handler", order::traced_router()),
        (
            "trace_layer_and_metrics_layer",
            order::bare_router()
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(DefaultMakeSpan::new().level(Level::INFO)),
                )
                .layer(axum_prometheus::PrometheusMetricLayer::new()),
        ),
    ];
    let mut group = c.benchmark_group(GROUP);
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for (name, router) in &cases {
        group.bench_function(*name, |b| {
            b.to_async(rt)
                .iter(|| async { black_box(order::serve(router).await) })
        });
    }
    mvi::__private::set_access_log(true);
    group.bench_function("traced_handler_access_log", |b| {
        b.to_async(rt)
            .iter(|| async { black_box(order::serve(&cases[1].1).await) })
    });
    mvi::__private::set_access_log(false);
    group.finish();
}

fn main() {
    mvi_runtime::run(None, benches);

    common::print_table(
        GROUP,
        "bare",
        &[
            "bare",
            "traced_handler",
            "traced_handler_access_log",
            "trace_layer_and_metrics_layer",
        ],
        Some(("overhead over bare", |ns, base| {
            format!("{:.2} µs", (ns - base) / 1000.0)
        })),
    );
}
