//! `mvi::metrics!` before install: every kind records through the `metrics` facade into an in-memory
//! recorder, with exact values and labels; and what each declaration puts in the catalog.
#![deny(warnings)]

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use metrics_util::{CompositeKey, MetricKind};

#[derive(mvi::LabelValue, Clone, Copy, Debug)]
enum Region {
    Eu,
    Us,
    #[label(rename = "ap")]
    AsiaPacific,
}

mvi::metrics! {
    /// Items sold, by region.
    ///
    /// Only the first paragraph is the HELP text.
    pub counter ITEMS_SOLD: "shop_items_sold_total" { region: Region };
    /// Refunds issued.
    counter REFUNDS: "shop_refunds_total";
    /// Orders waiting to be shipped, by warehouse.
    pub(crate) gauge BACKLOG: "shop_backlog_orders" { warehouse: &str, express: bool };
    /// Items in stock, per product.
    gauge(callback, max_series = 50) STOCK: "shop_stock_items" { product: String };
    /// Value of each order, in euros.
    histogram(unit = "euros", buckets = [10, 50, 100.5]) ORDER_VALUE: "shop_order_value_euros" { region: Region, channel: String };
    /// Size of uploaded files.
    histogram(buckets = exponential(1024, 4, 6)) UPLOAD_SIZE: "shop_upload_size_bytes";
    /// Time spent packing an order.
    histogram PACKING: "shop_packing_duration_seconds" { region: Region };
}

type Snapshot = Vec<(
    CompositeKey,
    Option<metrics::Unit>,
    Option<metrics::SharedString>,
    DebugValue,
)>;

fn with_recorder(f: impl FnOnce()) -> Snapshot {
    let recorder = DebuggingRecorder::new();
    let snapshotter: Snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, f);
    snapshotter.snapshot().into_vec()
}

/// Every series of `name` as (kind, labels `k=v` joined by `,`, value).
fn series(snapshot: &Snapshot, name: &str) -> Vec<(MetricKind, String, String)> {
    let mut out: Vec<_> = snapshot
        .iter()
        .filter(|(k, ..)| k.key().name() == name)
        .map(|(k, _, _, v)| {
            let labels = k
                .key()
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect::<Vec<_>>()
                .join(",");
            let value = match v {
                DebugValue::Counter(c) => c.to_string(),
                DebugValue::Gauge(g) => g.into_inner().to_string(),
                DebugValue::Histogram(h) => {
                    format!("{:?}", h.iter().map(|v| v.into_inner()).collect::<Vec<_>>())
                }
            };
            (k.kind(), labels, value)
        })
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

#[test]
fn counters_add_one_or_n_with_typed_labels() {
    let snap = with_recorder(|| {
        ITEMS_SOLD.add(3, Region::Eu);
        ITEMS_SOLD.inc(Region::Eu);
        ITEMS_SOLD.add(7, Region::AsiaPacific);
        REFUNDS.inc();
        REFUNDS.add(2);
    });
    assert_eq!(
        series(&snap, "shop_items_sold_total"),
        [
            (MetricKind::Counter, "region=ap".into(), "7".into()),
            (MetricKind::Counter, "region=eu".into(), "4".into()),
        ]
    );
    assert_eq!(
        series(&snap, "shop_refunds_total"),
        [(MetricKind::Counter, String::new(), "3".into())]
    );
}

#[test]
fn gauges_set_increment_and_decrement() {
    let owned = String::from("north");
    let snap = with_recorder(|| {
        BACKLOG.set(10.0, "south", false);
        BACKLOG.inc("south", false);
        BACKLOG.add(2.5, "south", false);
        BACKLOG.dec("south", false);
        BACKLOG.sub(0.5, "south", false);
        BACKLOG.set(4.0, &owned, true);
    });
    assert_eq!(
        series(&snap, "shop_backlog_orders"),
        [
            (
                MetricKind::Gauge,
                "warehouse=north,express=true".into(),
                "4".into()
            ),
            (
                MetricKind::Gauge,
                "warehouse=south,express=false".into(),
                "12".into()
            ),
        ]
    );
}

#[test]
fn histograms_record_values() {
    let snap = with_recorder(|| {
        ORDER_VALUE.record(42.0, Region::Us, "web");
        ORDER_VALUE.record(120.25, Region::Us, "web");
        UPLOAD_SIZE.record(2048.0);
        PACKING.record(0.25, Region::Eu);
    });
    assert_eq!(
        series(&snap, "shop_order_value_euros"),
        [(
            MetricKind::Histogram,
            "region=us,channel=web".into(),
            "[42.0, 120.25]".into()
        )]
    );
    assert_eq!(
        series(&snap, "shop_upload_size_bytes"),
        [(MetricKind::Histogram, String::new(), "[2048.0]".into())]
    );
    assert_eq!(
        series(&snap, "shop_packing_duration_seconds"),
        [(MetricKind::Histogram, "region=eu".into(), "[0.25]".into())]
    );
}

/// A gauge read at scrape time records nothing by itself: only a scrape runs its callback.
#[test]
fn callback_gauges_record_nothing_until_scraped() {
    let snap = with_recorder(|| {
        STOCK.register(|report| report(3.0, "kettle"));
    });
    assert!(series(&snap, "shop_stock_items").is_empty());
}

#[test]
fn each_declaration_is_in_the_catalog() {
    let catalog = mvi::catalog();
    let entry = |name: &str| catalog.get(name).unwrap_or_else(|| panic!("{name}"));

    let items = entry("shop_items_sold_total");
    assert_eq!(items.kind, mvi::MetricKind::Counter);
    assert_eq!(items.help, "Items sold, by region.");
    assert_eq!(items.unit, "");
    let decl = &items.declarations[0];
    assert_eq!(decl.function, "ITEMS_SOLD");
    assert_eq!(decl.module, "declared");
    assert_eq!(decl.labels, ["region"]);
    assert!(decl.file.ends_with("declared.rs"), "{}", decl.file);

    let backlog = entry("shop_backlog_orders");
    assert_eq!(backlog.kind, mvi::MetricKind::Gauge);
    assert_eq!(backlog.declarations[0].labels, ["warehouse", "express"]);

    let stock = entry("shop_stock_items");
    assert_eq!(stock.kind, mvi::MetricKind::Gauge);

    let value = entry("shop_order_value_euros");
    assert_eq!(value.kind, mvi::MetricKind::Histogram);
    assert_eq!(value.unit, "euros");
    assert_eq!(value.declarations[0].buckets, [10.0, 50.0, 100.5]);

    let upload = entry("shop_upload_size_bytes");
    assert_eq!(upload.unit, "bytes");
    assert_eq!(
        upload.declarations[0].buckets,
        [1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0]
    );

    let packing = entry("shop_packing_duration_seconds");
    assert_eq!(packing.unit, "seconds");
    assert_eq!(packing.declarations[0].buckets, mvi::DEFAULT_BUCKETS);

    assert!(catalog.conflicts().is_empty(), "{:?}", catalog.conflicts());
    let json = catalog.to_json();
    assert!(
        json.contains(r#""name": "shop_order_value_euros""#),
        "{json}"
    );
    assert!(json.contains(r#""unit": "euros""#), "{json}");
}
