//! Per-call cost of `#[observe]` against the SPEC's floor and the peers, in one run.
//!
//! - `bare`: the function with no instrumentation.
//! - `floor`: one relaxed `fetch_add` plus two `Instant::now()`, the least a counter + timer costs.
//! - `metrics_cached_handles`: a counter and a histogram registered once on a
//!   `metrics-exporter-prometheus` recorder, incremented/recorded per call with an `Instant` pair.
//! - `metrics_lookup_per_call`: `metrics::counter!`/`histogram!` with static labels per call, through
//!   the installed global recorder (what most code does).
//! - `prometheus_cached_children`: tikv's `prometheus` with label children resolved once.
//! - `observe_default`, `observe_static_labels`, `observe_enum_labels`, `observe_string_labels`:
//!   `#[mvi::observe]` after install, with no user label, a literal, an enum, and one of 16 strings.
//! - `observe_default_sampled_trace`, `observe_default_unsampled_trace`: `observe_default` inside a
//!   trace context, as in a `#[traced_handler]`: sampled, the counter and the bucket offer exemplars;
//!   unsampled, they do not.
//! - `observe_span`: `#[mvi::observe(span)]`, the metrics and a child span with mvi's context;
//!   `tracing_instrument`: `#[tracing::instrument]` alone (a span, no metrics);
//!   `observe_and_instrument`: `#[mvi::observe]` under `#[tracing::instrument]`, what one writes
//!   without the `span` option. All three under mvi's subscriber (JSON logs), outside any request.
//!
//! `cargo bench -p mvi --bench observe` prints criterion's report, then one table of ratios to `floor`.

mod common;

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::Criterion;
use metrics::{Key, Label, Level, Metadata, Recorder};

#[inline(never)]
fn work(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

#[mvi::observe]
#[inline(never)]
fn observed(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

#[mvi::observe(
    counter(name = "bench_static_calls_total"),
    histogram(name = "bench_static_duration_seconds"),
    labels(tier = "gold")
)]
#[inline(never)]
fn observed_static(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

#[derive(mvi::LabelValue, Clone, Copy)]
enum Region {
    Eu,
    Us,
}

#[mvi::observe(counter(name = "bench_enum_calls_total"), histogram(name = "bench_enum_duration_seconds"), labels(region = region))]
#[inline(never)]
fn observed_enum(x: u64, region: Region) -> u64 {
    black_box(x).wrapping_mul(3)
}

#[mvi::observe(counter(name = "bench_string_calls_total"), histogram(name = "bench_string_duration_seconds"), labels(tenant = tenant))]
#[inline(never)]
fn observed_string(x: u64, tenant: &str) -> u64 {
    black_box(x).wrapping_mul(3)
}

#[mvi::observe(span)]
#[inline(never)]
fn observed_span(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

#[tracing::instrument]
#[inline(never)]
fn instrumented(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

#[tracing::instrument]
#[mvi::observe]
#[inline(never)]
fn observed_instrumented(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

const GROUP: &str = "per_call";

fn benches(c: &mut Criterion) {
    let mut group = c.benchmark_group(GROUP);
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));

    group.bench_function("bare", |b| b.iter(|| work(black_box(7))));

    let counter = AtomicU64::new(0);
    group.bench_function("floor", |b| {
        b.iter(|| {
            let start = Instant::now();
            let r = work(black_box(7));
            counter.fetch_add(1, Ordering::Relaxed);
            black_box(Instant::now().duration_since(start));
            r
        })
    });

    let prom = metrics_exporter_prometheus::PrometheusBuilder::new()
        .set_buckets(mvi::DEFAULT_BUCKETS)
        .expect("buckets")
        .build_recorder();
    static META: Metadata<'static> = Metadata::new("bench", Level::INFO, None);
    let labels = [
        Label::from_static_parts("function", "work"),
        Label::from_static_parts("module", "bench"),
    ];
    // The exporter keeps histogram samples until upkeep drains them; run it as a deployment would.
    let handle = prom.handle();
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_secs(1));
            handle.run_upkeep();
        }
    });
    let calls = prom.register_counter(&Key::from_static_parts("peer_calls_total", &[]), &META);
    let duration = prom.register_histogram(
        &Key::from_parts("peer_duration_seconds", labels.to_vec()),
        &META,
    );
    group.bench_function("metrics_cached_handles", |b| {
        b.iter(|| {
            let start = Instant::now();
            let r = work(black_box(7));
            calls.increment(1);
            duration.record(start.elapsed().as_secs_f64());
            r
        })
    });

    group.bench_function("metrics_lookup_per_call", |b| {
        b.iter(|| {
            let start = Instant::now();
            let r = work(black_box(7));
            metrics::counter!("lookup_calls_total", "function" => "work", "module" => "bench").increment(1);
            metrics::histogram!("lookup_duration_seconds", "function" => "work", "module" => "bench")
                .record(start.elapsed().as_secs_f64());
            r
        })
    });

    let registry = prometheus::Registry::new();
    let tikv_calls = prometheus::IntCounterVec::new(
        prometheus::Opts::new("tikv_calls_total", "calls"),
        &["function", "module"],
    )
    .unwrap();
    let tikv_duration = prometheus::HistogramVec::new(
        prometheus::HistogramOpts::new("tikv_duration_seconds", "duration")
            .buckets(mvi::DEFAULT_BUCKETS.to_vec()),
        &["function", "module"],
    )
    .unwrap();
    registry.register(Box::new(tikv_calls.clone())).unwrap();
    registry.register(Box::new(tikv_duration.clone())).unwrap();
    let tikv_calls = tikv_calls.with_label_values(&["work", "bench"]);
    let tikv_duration = tikv_duration.with_label_values(&["work", "bench"]);
    group.bench_function("prometheus_cached_children", |b| {
        b.iter(|| {
            let start = Instant::now();
            let r = work(black_box(7));
            tikv_calls.inc();
            tikv_duration.observe(start.elapsed().as_secs_f64());
            r
        })
    });

    group.bench_function("observe_default", |b| b.iter(|| observed(black_box(7))));
    // The same call inside a trace: sampled, its counter and bucket offer exemplars (a clock read and
    // a relaxed load per call, a write at most every 100 ms); unsampled, nothing more than outside one.
    for (name, flags) in [
        ("observe_default_sampled_trace", 0x01),
        ("observe_default_unsampled_trace", 0x00),
    ] {
        let cx = mvi::context::SpanContext {
            trace_id: mvi::trace_context::TraceId(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736),
            span_id: mvi::trace_context::SpanId(0x00f0_67aa_0ba9_02b7),
            flags,
        };
        mvi::__private::in_context(cx, || {
            group.bench_function(name, |b| b.iter(|| observed(black_box(7))));
        });
    }
    group.bench_function("observe_static_labels", |b| {
        b.iter(|| observed_static(black_box(7)))
    });
    group.bench_function("observe_enum_labels", |b| {
        let mut i = 0u64;
        b.iter(|| {
            i += 1;
            observed_enum(
                black_box(7),
                if i % 2 == 0 { Region::Eu } else { Region::Us },
            )
        })
    });
    let tenants: Vec<String> = (0..16).map(|i| format!("tenant-{i}")).collect();
    group.bench_function("observe_string_labels", |b| {
        let mut i = 0usize;
        b.iter(|| {
            i = (i + 1) % tenants.len();
            observed_string(black_box(7), &tenants[i])
        })
    });
    group.bench_function("observe_span", |b| b.iter(|| observed_span(black_box(7))));
    group.bench_function("tracing_instrument", |b| {
        b.iter(|| instrumented(black_box(7)))
    });
    group.bench_function("observe_and_instrument", |b| {
        b.iter(|| observed_instrumented(black_box(7)))
    });
    group.finish();
}

fn main() {
    common::run(mvi::Telemetry::builder(), benches);

    common::print_table(
        GROUP,
        "floor",
        &[
            "bare",
            "floor",
            "metrics_cached_handles",
            "metrics_lookup_per_call",
            "prometheus_cached_children",
            "observe_default",
            "observe_default_sampled_trace",
            "observe_default_unsampled_trace",
            "observe_static_labels",
            "observe_enum_labels",
            "observe_string_labels",
            "observe_span",
            "tracing_instrument",
            "observe_and_instrument",
        ],
        None,
    );
}
