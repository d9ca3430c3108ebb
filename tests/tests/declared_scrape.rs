//! `mvi::metrics!` installed for real and scraped over HTTP: HELP and TYPE, zero series of closed label
//! sets, exact samples of every kind, gauges read at each scrape, the cap and its overflow, and
//! `promtool check metrics`.

use mvi_tests::{get, promtool_check, sample};

#[derive(mvi::LabelValue, Clone, Copy)]
enum Region {
    Eu,
    Us,
}

mvi::metrics! {
    /// Items sold, by region.
    counter ITEMS_SOLD: "shop_items_sold_total" { region: Region };
    /// Coupons redeemed, by code.
    counter(max_series = 3) COUPONS: "shop_coupons_redeemed_total" { code: &str };
    /// Orders waiting to be shipped, by region.
    gauge BACKLOG: "shop_backlog_orders" { region: Region };
    /// Returns, by region: a closed set larger than its cap.
    counter(max_series = 1) RETURNS: "shop_returns_total" { region: Region };
    /// Items in stock, per product.
    gauge(callback, max_series = 3) STOCK: "shop_stock_items" { product: String };
    /// Orders in the payment queue.
    gauge(callback) PAYMENT_QUEUE: "shop_payment_queue_orders";
    /// A gauge whose callback panics.
    gauge(callback) BROKEN: "shop_broken_reading";
    /// Value of each order placed, in euros.
    histogram(unit = "euros", buckets = [10, 50, 100]) ORDER_VALUE: "shop_order_value_euros" { region: Region };
    /// Time to pack an order.
    histogram PACKING: "shop_packing_duration_seconds";
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_metrics_over_a_real_scrape() {
    // Before install: recorded through the facade, into no recorder, and not kept.
    ITEMS_SOLD.add(100, Region::Eu);

    let telemetry = mvi::Telemetry::builder()
        .admin_addr("127.0.0.1:0")
        .install()
        .unwrap();
    let url = format!("http://{}/metrics", telemetry.admin_addr().unwrap());

    // HELP, TYPE and a zero series for every combination of a closed label set, before any call.
    let (_, _, first) = get(&url).await;
    for line in [
        "# HELP shop_items_sold_total Items sold, by region.",
        "# TYPE shop_items_sold_total counter",
        "shop_items_sold_total{region=\"eu\"} 0",
        "shop_items_sold_total{region=\"us\"} 0",
        "# TYPE shop_backlog_orders gauge",
        "shop_backlog_orders{region=\"us\"} 0",
        "# HELP shop_order_value_euros Value of each order placed, in euros.",
        "# TYPE shop_order_value_euros histogram",
        "shop_order_value_euros_bucket{region=\"us\",le=\"100\"} 0",
        "shop_order_value_euros_count{region=\"eu\"} 0",
        "shop_packing_duration_seconds_bucket{le=\"0.005\"} 0",
    ] {
        assert!(first.lines().any(|l| l == line), "{line:?} in:\n{first}");
    }
    // Open label sets, closed ones larger than their cap, and callbacks not yet registered have no
    // series.
    for family in [
        "shop_returns_total",
        "shop_coupons_redeemed_total",
        "shop_stock_items",
        "shop_payment_queue_orders",
    ] {
        assert!(
            !first.contains(&format!("\n{family}")),
            "{family} in:\n{first}"
        );
    }

    ITEMS_SOLD.add(3, Region::Eu);
    ITEMS_SOLD.inc(Region::Eu);
    ITEMS_SOLD.inc(Region::Us);
    for code in ["SPRING", "SPRING", "SUMMER", "AUTUMN", "WINTER", "X1", "X2"] {
        COUPONS.inc(code);
    }
    RETURNS.inc(Region::Us);
    RETURNS.inc(Region::Eu);
    RETURNS.inc(Region::Us);
    BACKLOG.set(7.0, Region::Eu);
    BACKLOG.dec(Region::Eu);
    BACKLOG.add(2.5, Region::Us);
    for (value, region) in [
        (5.0, Region::Eu),
        (50.0, Region::Eu),
        (75.5, Region::Eu),
        (1000.0, Region::Us),
    ] {
        ORDER_VALUE.record(value, region);
    }
    PACKING.record(0.02);
    let levels = std::sync::Arc::new(std::sync::Mutex::new(vec![
        ("kettle", 40),
        ("teapot", 25),
        ("mug", 100),
        ("cosy", 3),
        ("spoon", 12),
    ]));
    let read = levels.clone();
    STOCK.register(move |report| {
        for (product, level) in read.lock().unwrap().iter() {
            report(f64::from(*level), product);
        }
    });
    PAYMENT_QUEUE.register(|report| report(4.0));
    BROKEN.register(|_| panic!("the reading failed"));

    let (status, _, body) = get(&url).await;
    assert_eq!(status, 200);
    let expect = |series: &str, value: f64| {
        assert_eq!(sample(&body, series), Some(value), "{series} in:\n{body}");
    };
    expect(r#"shop_items_sold_total{region="eu"}"#, 4.0);
    expect(r#"shop_items_sold_total{region="us"}"#, 1.0);
    // The cap of 3 code values: the rest are counted under `__overflow__`.
    expect(r#"shop_coupons_redeemed_total{code="SPRING"}"#, 2.0);
    expect(r#"shop_coupons_redeemed_total{code="SUMMER"}"#, 1.0);
    expect(r#"shop_coupons_redeemed_total{code="AUTUMN"}"#, 1.0);
    expect(r#"shop_coupons_redeemed_total{code="__overflow__"}"#, 3.0);
    expect(
        r#"mvi_series_overflow_total{metric="shop_coupons_redeemed_total"}"#,
        3.0,
    );
    // The first region seen takes the one label set of the cap; the other is `__overflow__`.
    expect(r#"shop_returns_total{region="us"}"#, 2.0);
    expect(r#"shop_returns_total{region="__overflow__"}"#, 1.0);
    assert!(
        !body.contains(r#"shop_returns_total{region="eu"}"#),
        "{body}"
    );
    expect(r#"shop_backlog_orders{region="eu"}"#, 6.0);
    expect(r#"shop_backlog_orders{region="us"}"#, 2.5);
    for (le, count) in [("10", 1.0), ("50", 2.0), ("100", 3.0), ("+Inf", 3.0)] {
        expect(
            &format!(r#"shop_order_value_euros_bucket{{region="eu",le="{le}"}}"#),
            count,
        );
    }
    expect(r#"shop_order_value_euros_sum{region="eu"}"#, 130.5);
    expect(r#"shop_order_value_euros_count{region="eu"}"#, 3.0);
    expect(
        r#"shop_order_value_euros_bucket{region="us",le="100"}"#,
        0.0,
    );
    expect(
        r#"shop_order_value_euros_bucket{region="us",le="+Inf"}"#,
        1.0,
    );
    expect(r#"shop_packing_duration_seconds_bucket{le="0.025"}"#, 1.0);
    expect("shop_packing_duration_seconds_count", 1.0);

    // Gauges read at this scrape: the cap of 3 products, the other two summed under `__overflow__`;
    // the panicking callback is left out, and the scrape goes on.
    let help = "# HELP shop_stock_items Items in stock, per product.";
    assert_eq!(body.lines().filter(|l| *l == help).count(), 1, "{body}");
    assert!(body.contains("# TYPE shop_stock_items gauge\n"), "{body}");
    expect(r#"shop_stock_items{product="kettle"}"#, 40.0);
    expect(r#"shop_stock_items{product="teapot"}"#, 25.0);
    expect(r#"shop_stock_items{product="mug"}"#, 100.0);
    expect(r#"shop_stock_items{product="__overflow__"}"#, 15.0);
    expect(
        r#"mvi_series_overflow_total{metric="shop_stock_items"}"#,
        2.0,
    );
    expect("shop_payment_queue_orders", 4.0);
    assert!(!body.contains("shop_broken_reading"), "{body}");

    if let Some(findings) = promtool_check(&body) {
        assert_eq!(findings.trim(), "", "promtool findings on:\n{body}");
    }

    // The next scrape reads again: new values, and a product no longer reported is gone.
    *levels.lock().unwrap() = vec![("kettle", 39), ("mug", 98)];
    let (_, _, body) = get(&url).await;
    assert_eq!(
        sample(&body, r#"shop_stock_items{product="kettle"}"#),
        Some(39.0),
        "{body}"
    );
    assert_eq!(
        sample(&body, r#"shop_stock_items{product="mug"}"#),
        Some(98.0),
        "{body}"
    );
    assert!(!body.contains(r#"product="teapot""#), "{body}");
    assert!(
        !body.contains(r#"shop_stock_items{product="__overflow__"}"#),
        "{body}"
    );

    telemetry.shutdown().await;
}
