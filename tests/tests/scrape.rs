//! An annotated program, installed for real, scraped over HTTP and checked by `promtool`.

use mvi_tests::{get, promtool_check, sample};

#[mvi::observe(counter, histogram(buckets = exponential(0.01, 2, 8)))]
fn charge(cents: u64) -> Result<u64, String> {
    std::thread::sleep(std::time::Duration::from_millis(cents));
    if cents % 2 == 1 {
        Err(format!("declined {cents}"))
    } else {
        Ok(cents)
    }
}

#[mvi::observe(
    counter(name = "orders_placed_total", help = "Orders accepted by checkout."),
    concurrency
)]
async fn place_order(region: &'static str) -> u32 {
    tokio::task::yield_now().await;
    region.len() as u32
}

#[mvi::observe(counter(name = "lookups_total"), labels(region = region))]
fn lookup(region: String) -> bool {
    !region.is_empty()
}

const CHARGE: &str = r#"function="charge",module="scrape""#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrape_shows_exact_samples_and_passes_promtool() {
    // Made before install: must not stay a no-op once mvi is installed.
    assert!(charge(0).is_ok());

    let telemetry = mvi::Telemetry::builder()
        .service_name("scrape-test")
        .admin_addr("127.0.0.1:0")
        .install()
        .unwrap();
    let base = format!("http://{}", telemetry.admin_addr().unwrap());

    // Zero series of every static label set exist before the first call after install.
    let (_, _, before) = get(&format!("{base}/metrics")).await;
    assert_eq!(
        sample(
            &before,
            &format!("function_calls_total{{{CHARGE},result=\"error\"}}")
        ),
        Some(0.0),
        "{before}"
    );
    assert_eq!(
        sample(
            &before,
            r#"orders_placed_total{function="place_order",module="scrape",result="cancelled"}"#
        ),
        Some(0.0),
        "{before}"
    );

    for cents in [2, 3, 4, 40] {
        let _ = charge(cents);
    }
    assert_eq!(place_order("eu").await, 2);
    assert!(lookup("us-east".into()));
    assert!(lookup("a \"quoted\" \\ value\nwith newline".into()));
    metrics::describe_counter!("user_signups_total", "Sign-ups, by plan.");
    metrics::counter!("user_signups_total", "plan" => "free").increment(3);

    let (status, content_type, body) = get(&format!("{base}/metrics")).await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");

    assert_eq!(
        sample(
            &body,
            &format!("function_calls_total{{{CHARGE},result=\"ok\"}}")
        ),
        Some(3.0),
        "{body}"
    );
    assert_eq!(
        sample(
            &body,
            &format!("function_calls_total{{{CHARGE},result=\"error\"}}")
        ),
        Some(1.0),
        "{body}"
    );
    let bounds = [
        "0.01", "0.02", "0.04", "0.08", "0.16", "0.32", "0.64", "1.28", "+Inf",
    ];
    let rendered: Vec<&str> = body
        .lines()
        .filter(|l| l.starts_with("function_calls_duration_seconds_bucket{") && l.contains(CHARGE))
        .map(|l| l.split(",le=\"").nth(1).unwrap().split('"').next().unwrap())
        .collect();
    assert_eq!(rendered, bounds, "{body}");
    let bucket = |le: &str| {
        sample(
            &body,
            &format!("function_calls_duration_seconds_bucket{{{CHARGE},le=\"{le}\"}}"),
        )
    };
    // Sleeps of 2, 3 and 4 ms land at or below 10 ms, 40 ms at or below 80 ms; 0 ms was before install.
    assert_eq!(bucket("0.01"), Some(3.0), "{body}");
    assert_eq!(bucket("0.04"), Some(3.0), "{body}");
    assert_eq!(bucket("0.08"), Some(4.0), "{body}");
    assert_eq!(bucket("+Inf"), Some(4.0), "{body}");
    assert_eq!(
        sample(
            &body,
            &format!("function_calls_duration_seconds_count{{{CHARGE}}}")
        ),
        Some(4.0)
    );
    let sum = sample(
        &body,
        &format!("function_calls_duration_seconds_sum{{{CHARGE}}}"),
    )
    .unwrap();
    assert!((0.049..1.0).contains(&sum), "sum {sum}");

    assert!(
        body.contains("# TYPE function_calls_duration_seconds histogram"),
        "{body}"
    );
    assert!(
        body.contains("# HELP orders_placed_total Orders accepted by checkout."),
        "{body}"
    );
    assert_eq!(
        sample(
            &body,
            r#"orders_placed_total{function="place_order",module="scrape",result="ok"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &body,
            r#"function_calls_concurrent{function="place_order",module="scrape"}"#
        ),
        Some(0.0)
    );
    assert_eq!(
        sample(
            &body,
            r#"lookups_total{function="lookup",module="scrape",result="ok",region="us-east"}"#
        ),
        Some(1.0)
    );
    assert!(
        body.contains(r#"region="a \"quoted\" \\ value\nwith newline""#),
        "{body}"
    );
    assert_eq!(
        sample(&body, r#"user_signups_total{plan="free"}"#),
        Some(3.0),
        "{body}"
    );
    assert!(
        !body.contains("quantile="),
        "no histogram may render as a summary:\n{body}"
    );

    if let Some(findings) = promtool_check(&body) {
        assert_eq!(
            findings.trim(),
            "",
            "promtool check metrics findings on:\n{body}"
        );
    }

    let (status, _, _) = get(&format!("{base}/nope")).await;
    assert_eq!(status, 404);

    // A second install is an error value; so is an address in use.
    assert!(matches!(
        mvi::Telemetry::builder()
            .admin_addr("127.0.0.1:0")
            .install(),
        Err(mvi::Error::AlreadyInstalled)
    ));
    telemetry.shutdown().await;
}

#[test]
fn catalog_lists_every_declaration() {
    let catalog = mvi::catalog();
    assert!(catalog.conflicts().is_empty());
    let hist = catalog.get("function_calls_duration_seconds").unwrap();
    assert_eq!(hist.kind, mvi::MetricKind::Histogram);
    assert_eq!(
        hist.declarations[0].buckets,
        [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28]
    );
    assert_eq!(hist.declarations[0].labels, ["function", "module"]);
    let orders = catalog.get("orders_placed_total").unwrap();
    assert_eq!(orders.help, "Orders accepted by checkout.");
    assert_eq!(orders.declarations[0].function, "place_order");
    assert_eq!(orders.declarations[0].module, "scrape");
    assert!(orders.declarations[0].file.ends_with("scrape.rs"));
    let lookups = catalog.get("lookups_total").unwrap();
    assert_eq!(
        lookups.declarations[0].labels,
        ["function", "module", "result", "region"]
    );
    let json: serde_json::Value = serde_json::from_str(&catalog.to_json()).unwrap();
    assert_eq!(
        json["metrics"].as_array().unwrap().len(),
        catalog.metrics().len()
    );
    assert_eq!(
        json["metrics"][0]["declarations"][0]["file"],
        catalog.metrics()[0].declarations[0].file
    );
}
