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
//!
//! The `contended` group runs the same calls on 1 and 2 threads at once (and on as many threads as the
//! machine has cores, when that is more), every thread calling the same function, in bursts that start
//! together: each thread's time per call, the median over the bursts of every thread (see `on_threads`). `floor` there is one `fetch_add` on a counter every thread
//! shares plus two `Instant::now()`; `prometheus_cached_children` shares its children likewise.
//!
//! `cargo bench -p mvi --bench observe` prints criterion's report, then one table of ratios to `floor`
//! and one of the contended costs against one thread's.

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
const CONTENDED: &str = "contended";
const TENANTS: usize = 16;

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

/// Calls a thread makes between two meetings of the threads.
const BURST: u64 = 256;

/// `threads` threads make `iters` calls each, `call(i)`, in bursts of [`BURST`] that start together:
/// before each burst every thread waits, spinning, for the others. The time per call is the median
/// of every thread's bursts, returned for `iters` calls.
///
/// Why not each thread's total time: on a machine shared with other work, a thread that loses its core
/// counts the wait, and its partner runs alone meanwhile. In lock-step bursts both threads are on a
/// core when a burst starts, and the median leaves out the bursts that either spent off its core.
fn on_threads(threads: usize, iters: u64, call: &(dyn Fn(u64) + Sync)) -> Duration {
    let bursts = iters.div_ceil(BURST);
    let arrived = AtomicU64::new(0);
    let meet = |burst: u64| {
        arrived.fetch_add(1, Ordering::AcqRel);
        let all = threads as u64 * (burst + 1);
        let mut spins = 0u32;
        while arrived.load(Ordering::Acquire) < all {
            spins += 1;
            if spins % 4096 == 0 {
                std::thread::yield_now();
            }
            std::hint::spin_loop();
        }
    };
    let mut times: Vec<Duration> = std::thread::scope(|scope| {
        let timed: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    (0..bursts)
                        .map(|burst| {
                            meet(burst);
                            let start = Instant::now();
                            for i in burst * BURST..(burst + 1) * BURST {
                                call(i);
                            }
                            start.elapsed()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        timed
            .into_iter()
            .flat_map(|t| t.join().expect("thread"))
            .collect()
    });
    times.sort_unstable();
    let per_call = times[times.len() / 2].as_secs_f64() / BURST as f64;
    Duration::from_secs_f64(per_call * iters as f64)
}

/// The thread counts of the contended group: 1, 2, and the machine's cores when more.
fn thread_counts() -> Vec<usize> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let mut counts = vec![1, 2];
    if cores > 2 {
        counts.push(cores);
    }
    counts
}

/// The cases of the contended group, each a call made by every thread.
const CONTENDED_CASES: [&str; 6] = [
    "floor",
    "prometheus_cached_children",
    "observe_default",
    "observe_static_labels",
    "observe_enum_labels",
    "observe_string_labels",
];

fn contended(c: &mut Criterion) {
    let shared = AtomicU64::new(0);
    let floor = |_| {
        let start = Instant::now();
        black_box(work(black_box(7)));
        shared.fetch_add(1, Ordering::Relaxed);
        black_box(Instant::now().duration_since(start));
    };
    let tikv_calls = prometheus::IntCounterVec::new(
        prometheus::Opts::new("tikv_contended_calls_total", "calls"),
        &["function", "module"],
    )
    .unwrap()
    .with_label_values(&["work", "bench"]);
    let tikv_duration = prometheus::HistogramVec::new(
        prometheus::HistogramOpts::new("tikv_contended_duration_seconds", "duration")
            .buckets(mvi::DEFAULT_BUCKETS.to_vec()),
        &["function", "module"],
    )
    .unwrap()
    .with_label_values(&["work", "bench"]);
    let tikv = |_| {
        let start = Instant::now();
        black_box(work(black_box(7)));
        tikv_calls.inc();
        tikv_duration.observe(start.elapsed().as_secs_f64());
    };
    let tenants: Vec<String> = (0..TENANTS).map(|i| format!("tenant-{i}")).collect();
    let cases: [&(dyn Fn(u64) + Sync); 6] = [
        &floor,
        &tikv,
        &|_| {
            black_box(observed(black_box(7)));
        },
        &|_| {
            black_box(observed_static(black_box(7)));
        },
        &|i| {
            let region = if i % 2 == 0 { Region::Eu } else { Region::Us };
            black_box(observed_enum(black_box(7), region));
        },
        &|i| {
            black_box(observed_string(
                black_box(7),
                &tenants[i as usize % TENANTS],
            ));
        },
    ];
    let mut group = c.benchmark_group(CONTENDED);
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for (name, call) in CONTENDED_CASES.iter().zip(cases) {
        for threads in thread_counts() {
            group.bench_function(format!("{name}_x{threads}"), |b| {
                b.iter_custom(|iters| on_threads(threads, iters, call))
            });
        }
    }
    group.finish();
}

/// The contended costs: each case on 1 thread and on more, and the ratio to 1 thread.
fn print_contended_table() {
    let counts = thread_counts();
    let heads: String = counts[1..]
        .iter()
        .map(|n| format!(" {n} threads | ratio |"))
        .collect();
    println!(
        "\n| {CONTENDED} | 1 thread |{heads}\n|---|---:|{}",
        "---:|---:|".repeat(counts.len() - 1)
    );
    for name in CONTENDED_CASES {
        let Some(one) = common::mean_ns(CONTENDED, &format!("{name}_x1")) else {
            continue;
        };
        let cells: String = counts[1..]
            .iter()
            .map(
                |n| match common::mean_ns(CONTENDED, &format!("{name}_x{n}")) {
                    Some(ns) => format!(" {ns:.1} ns | {:.2}x |", ns / one),
                    None => " – | – |".to_string(),
                },
            )
            .collect();
        println!("| {name} | {one:.1} ns |{cells}");
    }
}

fn main() {
    common::run(mvi::Telemetry::builder(), |c| {
        benches(c);
        contended(c);
    });

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
    print_contended_table();
}
