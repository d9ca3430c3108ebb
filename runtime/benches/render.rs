//! Rendering `/metrics` with 10,000 series: mvi in the Prometheus text format and in OpenMetrics (with
//! exemplars), against `metrics-exporter-prometheus` rendering the same series, in one run; then the
//! bytes per series of each, plain and gzip-compressed.
//!
//! The series: 5,000 counters and 2,500 gauges (`method`, `route`, `status`), and 2,500 histograms of
//! OpenTelemetry's 14 duration buckets (each one series: 17 sample lines), each counter and histogram
//! recorded inside a sampled trace (so the OpenMetrics output carries an exemplar on every counter and
//! on every bucket a sample fell in).
//!
//! `cargo bench -p mvi --bench render` prints criterion's report, then a table of times and sizes.

mod common;

use std::hint::black_box;
use std::io::Write as _;
use std::time::Duration;

use criterion::Criterion;
use metrics::{Key, Label, Level, Metadata, Recorder};
use metrics_exporter_prometheus::PrometheusBuilder;
use mvi::ExpositionFormat;

const GROUP: &str = "render_10k_series";
const SERIES: usize = 10_000;

/// The labels of series `i`.
fn labels(i: usize) -> Vec<Label> {
    vec![
        Label::from_static_parts("method", if i % 2 == 0 { "GET" } else { "POST" }),
        Label::new("route", format!("/api/v1/items/{i}")),
        Label::from_static_parts("status", "200"),
    ]
}

/// Records the same 10,000 series into `recorder`.
fn record(recorder: &dyn Recorder) {
    static META: Metadata<'static> = Metadata::new("bench", Level::INFO, None);
    recorder.describe_counter("bench_requests_total".into(), None, "Requests.".into());
    recorder.describe_gauge("bench_in_flight".into(), None, "Requests in flight.".into());
    recorder.describe_histogram(
        "bench_request_duration_seconds".into(),
        Some(metrics::Unit::Seconds),
        "Request duration.".into(),
    );
    for i in 0..SERIES {
        match i % 4 {
            0 | 1 => recorder
                .register_counter(&Key::from_parts("bench_requests_total", labels(i)), &META)
                .increment(i as u64),
            2 => recorder
                .register_gauge(&Key::from_parts("bench_in_flight", labels(i)), &META)
                .set(i as f64),
            _ => {
                let key = Key::from_parts("bench_request_duration_seconds", labels(i));
                let histogram = recorder.register_histogram(&key, &META);
                for v in [0.003, 0.04, 0.04, 0.7, (i % 100) as f64 / 10.0] {
                    histogram.record(v);
                }
            }
        }
    }
}

fn gzip_len(text: &str) -> usize {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(text.as_bytes()).unwrap();
    encoder.finish().unwrap().len()
}

fn main() {
    let telemetry = mvi::Telemetry::builder()
        .without_admin_server()
        .without_logs()
        .max_series_per_metric(SERIES)
        .install()
        .expect("install mvi");
    let cx = mvi::context::SpanContext {
        trace_id: mvi::trace_context::TraceId(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736),
        span_id: mvi::trace_context::SpanId(0x00f0_67aa_0ba9_02b7),
        flags: 0x01,
    };
    mvi::__private::in_context(cx, || metrics::with_recorder(record));
    let exporter = PrometheusBuilder::new()
        .set_buckets(mvi::DEFAULT_BUCKETS)
        .expect("buckets")
        .build_recorder();
    record(&exporter);
    let exporter = exporter.handle();
    exporter.run_upkeep();

    let outputs = [
        (
            "mvi_text",
            telemetry.render_as(ExpositionFormat::PrometheusText),
        ),
        (
            "mvi_openmetrics",
            telemetry.render_as(ExpositionFormat::OpenMetrics),
        ),
        ("metrics_exporter_prometheus_text", exporter.render()),
    ];
    for (name, text) in &outputs {
        let samples = text.lines().filter(|l| !l.starts_with('#')).count();
        assert!(samples >= SERIES, "{name} renders {samples} samples");
    }
    assert!(
        outputs[1].1.contains(" # {trace_id=\""),
        "exemplars in OpenMetrics"
    );

    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group(GROUP);
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    group.bench_function("mvi_text", |b| {
        b.iter(|| black_box(telemetry.render_as(ExpositionFormat::PrometheusText)))
    });
    group.bench_function("mvi_openmetrics", |b| {
        b.iter(|| black_box(telemetry.render_as(ExpositionFormat::OpenMetrics)))
    });
    group.bench_function("metrics_exporter_prometheus_text", |b| {
        b.iter(|| black_box(exporter.render()))
    });
    group.finish();
    criterion.final_summary();

    common::print_table(
        GROUP,
        "metrics_exporter_prometheus_text",
        &[
            "mvi_text",
            "mvi_openmetrics",
            "metrics_exporter_prometheus_text",
        ],
        None,
    );
    println!(
        "\n| exposition | bytes | bytes per series | gzip bytes per series |\n|---|---:|---:|---:|"
    );
    for (name, text) in &outputs {
        println!(
            "| {name} | {} | {:.1} | {:.1} |",
            text.len(),
            text.len() as f64 / SERIES as f64,
            gzip_len(text) as f64 / SERIES as f64
        );
    }
}
