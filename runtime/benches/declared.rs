//! Per-increment cost of a counter of `mvi::metrics!` with enum labels, against the peers with the same
//! labels, in one run.
//!
//! - `floor`: one relaxed `fetch_add`, the least an increment costs.
//! - `metrics_counter_macro`: `metrics::counter!("...", "region" => ...)` per call, as code without mvi
//!   writes it, on a `metrics-exporter-prometheus` recorder.
//! - `metrics_counter_macro_in_mvi`: the same through mvi's recorder (an application's own calls).
//! - `prometheus_cached_children`: tikv's `prometheus`, an `IntCounterVec` with one child per enum value
//!   resolved once and kept in an array.
//! - `declared_enum_labels`: `ITEMS_SOLD.inc(region)` after install.
//! - `declared_add_n_enum_labels`: `ITEMS_SOLD.add(3, region)`.
//! - `declared_unlabelled`: a counter without labels.
//! - `metrics_counter_macro_string`, `declared_string_labels`: an open label, one of 16 strings.
//! - `declared_gauge_set_enum_labels`, `declared_histogram_record_enum_labels`: the other kinds.
//!
//! `cargo bench -p mvi --bench declared` prints criterion's report, then one table of ratios to `floor`.

mod common;

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::Criterion;

#[derive(mvi::LabelValue, Clone, Copy)]
enum Region {
    Eu,
    Us,
    Apac,
}

impl Region {
    const ALL: [Region; 3] = [Region::Eu, Region::Us, Region::Apac];

    /// The label value, as code without mvi writes it.
    fn as_str(self) -> &'static str {
        match self {
            Region::Eu => "eu",
            Region::Us => "us",
            Region::Apac => "apac",
        }
    }
}

mvi::metrics! {
    /// Items sold, by region.
    counter ITEMS_SOLD: "bench_items_sold_total" { region: Region };
    /// Refunds.
    counter REFUNDS: "bench_refunds_total";
    /// Coupons redeemed, by code.
    counter COUPONS: "bench_coupons_redeemed_total" { code: &str };
    /// Orders waiting, by region.
    gauge BACKLOG: "bench_backlog_orders" { region: Region };
    /// Value of each order, by region.
    histogram(unit = "euros", buckets = exponential(5, 2, 8)) ORDER_VALUE: "bench_order_value_euros" { region: Region };
}

const GROUP: &str = "increment";

fn benches(c: &mut Criterion) {
    let mut group = c.benchmark_group(GROUP);
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let region = |i: usize| Region::ALL[i % 3];

    let counter = AtomicU64::new(0);
    group.bench_function("floor", |b| {
        b.iter(|| counter.fetch_add(black_box(1), Ordering::Relaxed))
    });

    let prom = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    group.bench_function("metrics_counter_macro", |b| {
        metrics::with_local_recorder(&prom, || {
            let mut i = 0;
            b.iter(|| {
                i += 1;
                metrics::counter!("peer_items_sold_total", "region" => region(i).as_str())
                    .increment(1);
            })
        })
    });
    group.bench_function("metrics_counter_macro_in_mvi", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            metrics::counter!("own_items_sold_total", "region" => region(i).as_str()).increment(1);
        })
    });

    let registry = prometheus::Registry::new();
    let tikv = prometheus::IntCounterVec::new(
        prometheus::Opts::new("tikv_items_sold_total", "Items sold, by region."),
        &["region"],
    )
    .unwrap();
    registry.register(Box::new(tikv.clone())).unwrap();
    let children = Region::ALL.map(|r| tikv.with_label_values(&[r.as_str()]));
    group.bench_function("prometheus_cached_children", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            children[region(i) as usize].inc();
        })
    });

    group.bench_function("declared_enum_labels", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            ITEMS_SOLD.inc(region(i));
        })
    });
    group.bench_function("declared_add_n_enum_labels", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            ITEMS_SOLD.add(black_box(3), region(i));
        })
    });
    group.bench_function("declared_unlabelled", |b| b.iter(|| REFUNDS.inc()));

    let codes: Vec<String> = (0..16).map(|i| format!("CODE-{i}")).collect();
    group.bench_function("metrics_counter_macro_string", |b| {
        metrics::with_local_recorder(&prom, || {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % codes.len();
                metrics::counter!("peer_coupons_redeemed_total", "code" => codes[i].clone())
                    .increment(1);
            })
        })
    });
    group.bench_function("declared_string_labels", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % codes.len();
            COUPONS.inc(&codes[i]);
        })
    });

    group.bench_function("declared_gauge_set_enum_labels", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            BACKLOG.set(black_box(2.0), region(i));
        })
    });
    group.bench_function("declared_histogram_record_enum_labels", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            ORDER_VALUE.record(black_box(42.0), region(i));
        })
    });
    group.finish();
}

fn main() {
    common::run(mvi::Telemetry::builder(), benches);

    common::print_table(
        GROUP,
        "floor",
        &[
            "floor",
            "metrics_counter_macro",
            "metrics_counter_macro_in_mvi",
            "prometheus_cached_children",
            "declared_enum_labels",
            "declared_add_n_enum_labels",
            "declared_unlabelled",
            "metrics_counter_macro_string",
            "declared_string_labels",
            "declared_gauge_set_enum_labels",
            "declared_histogram_record_enum_labels",
        ],
        None,
    );
}
