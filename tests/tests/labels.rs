//! Typed, bounded labels against a real install: derives, closed-set tables, zero series of every
//! combination, and the cardinality guard under hostile input, checked by `promtool`.

use mvi_tests::{get, promtool_check, sample};

#[derive(mvi::LabelValue, Clone, Copy)]
enum Region {
    EuWest,
    UsEast,
    #[label(rename = "ap")]
    AsiaPacific,
}

#[derive(mvi::LabelValue, Clone, Copy)]
enum Tier {
    Free,
    Pro,
}

#[derive(mvi::Labels)]
struct OrderLabels {
    region: Region,
    #[label(name = "plan")]
    tier: Tier,
    express: bool,
}

#[mvi::observe(counter(name = "orders_total"), labels = labels)]
fn order(labels: &OrderLabels) -> Result<(), String> {
    if labels.express {
        Err("no couriers".into())
    } else {
        Ok(())
    }
}

#[mvi::observe(counter(name = "ships_total"), labels(region = region, source = "api"))]
fn ship(region: Region) {}

#[mvi::observe(counter(name = "searches_total"), labels(query = query))]
fn search(query: &str) -> usize {
    query.len()
}

// Two call sites of one metric share its cap.
#[mvi::observe(counter(name = "lookups_total"), labels(key = key))]
fn lookup_cache(key: &str) {}

#[mvi::observe(counter(name = "lookups_total"), labels(key = key))]
fn lookup_store(key: &str) {}

// A metric with a cap of its own.
#[mvi::observe(counter(name = "tenant_calls_total"), labels(tenant = tenant), max_series = 5)]
fn for_tenant(tenant: String) {}

// A closed set larger than the metric's own cap: no zero series, and the cap holds.
#[mvi::observe(counter(name = "routes_total"), labels(region = region), max_series = 2)]
fn route(region: Region) {}

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn hostile(i: usize) -> String {
    let planes = [
        '\u{7f}',
        '\u{e9}',
        '\u{4e2d}',
        '\u{1f600}',
        '\u{2a6d6}',
        '\u{e0041}',
        '\u{10fffd}',
    ];
    match i % 5 {
        0 => format!("\"quoted\" {i}"),
        1 => format!("back\\slash\\{i}\n\nnewline"),
        2 => format!("{}{i}", "x".repeat(10 * 1024)),
        3 => format!("{}{i}", planes.iter().collect::<String>()),
        _ => format!("plain-{i}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_labels_and_the_cardinality_guard() {
    let cap = 200;
    let telemetry = mvi::Telemetry::builder()
        .admin_addr("127.0.0.1:0")
        .max_series_per_metric(cap)
        .install()
        .unwrap();
    let url = format!("http://{}/metrics", telemetry.admin_addr().unwrap());

    // Every combination of the closed set exists from the first scrape.
    let (_, _, first) = get(&url).await;
    let combos = first
        .lines()
        .filter(|l| l.starts_with("orders_total{"))
        .count();
    assert_eq!(
        combos,
        3 * 2 * 2 * 2,
        "3 regions x 2 plans x 2 booleans x (ok, error):\n{first}"
    );
    let series = r#"orders_total{function="order",module="labels",result="ok",region="ap",plan="pro",express="false"}"#;
    assert_eq!(sample(&first, series), Some(0.0), "{first}");
    // So does every value of an enum argument read by `labels(key = arg)`, after the literal labels.
    let ship_series = first
        .lines()
        .filter(|l| l.starts_with("ships_total{"))
        .count();
    assert_eq!(ship_series, 3 * 2, "3 regions x (ok, error):\n{first}");
    assert!(
        !first.contains("routes_total{"),
        "3 regions exceed routes_total's own cap of 2, so none is created ahead:\n{first}"
    );
    assert_eq!(
        sample(
            &first,
            r#"ships_total{function="ship",module="labels",result="error",source="api",region="ap"}"#
        ),
        Some(0.0),
        "{first}"
    );

    assert!(
        order(&OrderLabels {
            region: Region::AsiaPacific,
            tier: Tier::Pro,
            express: false
        })
        .is_ok()
    );
    assert!(
        order(&OrderLabels {
            region: Region::EuWest,
            tier: Tier::Free,
            express: true
        })
        .is_err()
    );
    ship(Region::UsEast);
    ship(Region::UsEast);

    let (_, _, body) = get(&url).await;
    assert_eq!(sample(&body, series), Some(1.0), "{body}");
    let err = r#"orders_total{function="order",module="labels",result="error",region="eu_west",plan="free",express="true"}"#;
    assert_eq!(sample(&body, err), Some(1.0), "{body}");
    let ships =
        r#"ships_total{function="ship",module="labels",result="ok",source="api",region="us_east"}"#;
    assert_eq!(sample(&body, ships), Some(2.0), "{body}");

    // The cap counts label sets per metric, over every call site of it.
    for i in 0..150 {
        lookup_cache(&format!("c{i}"));
        lookup_store(&format!("s{i}"));
    }
    for i in 0..20 {
        for_tenant(format!("tenant-{i}"));
    }
    let (_, _, body) = get(&url).await;
    let lookups = |function: &str| {
        body.lines()
            .filter(|l| {
                l.starts_with("lookups_total{")
                    && l.contains(&format!("function=\"{function}\""))
                    && l.contains("result=\"ok\"")
                    && !l.contains("__overflow__")
            })
            .count()
    };
    assert_eq!(
        lookups("lookup_cache") + lookups("lookup_store"),
        cap,
        "{body}"
    );
    assert_eq!(
        sample(
            &body,
            r#"mvi_series_overflow_total{metric="lookups_total"}"#
        ),
        Some((300 - cap) as f64),
        "{body}"
    );
    let tenants = body
        .lines()
        .filter(|l| l.starts_with("tenant_calls_total{") && l.contains("result=\"ok\""))
        .count();
    assert_eq!(
        tenants,
        5 + 1,
        "its own cap of 5, plus the overflow series:\n{body}"
    );
    assert_eq!(
        sample(
            &body,
            r#"mvi_series_overflow_total{metric="tenant_calls_total"}"#
        ),
        Some(15.0)
    );

    for region in [Region::EuWest, Region::UsEast, Region::AsiaPacific] {
        route(region);
    }
    let (_, _, body) = get(&url).await;
    assert_eq!(
        sample(&body, r#"mvi_series_overflow_total{metric="routes_total"}"#),
        Some(1.0),
        "the third region is past the cap of 2: {body}"
    );

    // Hostile, unbounded input: 100,000 distinct values; memory measured below the cap, at it, past it.
    for i in 0..cap / 2 {
        search(&hostile(i));
    }
    let rss_below_cap = rss_kib();
    for i in cap / 2..1_000 {
        search(&hostile(i));
    }
    let rss_after_warmup = rss_kib();
    for i in 1_000..100_000 {
        search(&hostile(i));
    }
    let rss_after_all = rss_kib();

    let (_, _, body) = get(&url).await;
    let ok_series = body
        .lines()
        .filter(|l| l.starts_with("searches_total{") && l.contains("result=\"ok\""))
        .count();
    assert_eq!(ok_series, cap + 1, "cap series plus the overflow series");
    let overflow =
        r#"searches_total{function="search",module="labels",result="ok",query="__overflow__"}"#;
    assert_eq!(sample(&body, overflow), Some((100_000 - cap) as f64));
    assert_eq!(
        sample(
            &body,
            r#"mvi_series_overflow_total{metric="searches_total"}"#
        ),
        Some((100_000 - cap) as f64)
    );
    assert!(body.contains(r#"query="\"quoted\" 0""#), "quotes escaped");
    assert!(
        body.contains(r#"query="back\\slash\\1\n\nnewline""#),
        "backslashes and newlines escaped"
    );
    assert!(
        body.contains("\u{1f600}\u{2a6d6}\u{e0041}\u{10fffd}3\""),
        "every plane kept as UTF-8"
    );

    if let (Some(below), Some(a), Some(b)) = (rss_below_cap, rss_after_warmup, rss_after_all) {
        eprintln!(
            "resident memory: {below} KiB after {} hostile values (below the cap of {cap}), {a} KiB after 1,000, {b} KiB after 100,000",
            cap / 2
        );
        assert!(
            b.saturating_sub(a) < 16 * 1024,
            "memory grew by {} KiB past the cap",
            b - a
        );
    }
    // The application's own `metrics::counter!` is under the same cap and overflow.
    metrics::describe_counter!("user_events_total", "Events of the application's own.");
    for i in 0..1_000 {
        metrics::counter!("user_events_total", "key" => hostile(i)).increment(1);
    }
    let (_, _, body) = get(&url).await;
    assert_eq!(
        body.lines()
            .filter(|l| l.starts_with("user_events_total{"))
            .count(),
        cap + 1,
        "cap series plus the overflow series"
    );
    assert_eq!(
        sample(&body, r#"user_events_total{key="__overflow__"}"#),
        Some((1_000 - cap) as f64)
    );
    assert_eq!(
        sample(
            &body,
            r#"mvi_series_overflow_total{metric="user_events_total"}"#
        ),
        Some((1_000 - cap) as f64)
    );
    if let Some(findings) = promtool_check(&body) {
        assert_eq!(findings.trim(), "", "promtool findings");
    }
    telemetry.shutdown().await;
}

#[test]
fn catalog_records_names_and_values() {
    let orders = mvi::catalog().get("orders_total").unwrap();
    let decl = &orders.declarations[0];
    assert_eq!(
        decl.labels,
        ["function", "module", "result", "region", "plan", "express"]
    );
    assert_eq!(decl.function, "order");
    assert_eq!(
        <OrderLabels as mvi::Labels>::VALUES[0],
        Some(&["eu_west", "us_east", "ap"][..])
    );
    assert_eq!(<Region as mvi::LabelValue>::VALUES.unwrap().len(), 3);
}
