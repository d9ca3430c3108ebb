//! The design card's own example beside a plain `#[observe]`, as a user writes them first: each
//! function's series keep their own buckets, and the scrape is clean.

#[mvi::observe(counter, histogram(buckets = exponential(0.01, 2, 8)))]
fn charge() -> Result<(), String> {
    Ok(())
}

#[mvi::observe]
fn lookup() {}

#[tokio::test]
async fn each_function_has_its_own_buckets() {
    let telemetry = mvi::Telemetry::builder()
        .admin_addr("127.0.0.1:0")
        .without_logs()
        .install()
        .expect("the headline form installs beside a plain #[observe]");
    charge().unwrap();
    lookup();
    lookup();
    let (status, _, body) = mvi_tests::get(&format!(
        "http://{}/metrics",
        telemetry.admin_addr().unwrap()
    ))
    .await;
    assert_eq!(status, 200);
    let les = |function: &str| -> Vec<String> {
        let prefix = format!(
            "function_calls_duration_seconds_bucket{{function=\"{function}\",module=\"shape_buckets\",le=\""
        );
        body.lines()
            .filter_map(|l| l.strip_prefix(&prefix))
            .map(|rest| rest.split('"').next().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        les("charge"),
        [
            "0.01", "0.02", "0.04", "0.08", "0.16", "0.32", "0.64", "1.28", "+Inf"
        ],
        "{body}"
    );
    assert_eq!(
        les("lookup"),
        [
            "0.005", "0.01", "0.025", "0.05", "0.075", "0.1", "0.25", "0.5", "0.75", "1", "2.5",
            "5", "7.5", "10", "+Inf"
        ],
        "{body}"
    );
    let count = |series: &str| mvi_tests::sample(&body, series);
    assert_eq!(
        count(r#"function_calls_duration_seconds_count{function="charge",module="shape_buckets"}"#),
        Some(1.0)
    );
    assert_eq!(
        count(r#"function_calls_duration_seconds_count{function="lookup",module="shape_buckets"}"#),
        Some(2.0)
    );
    assert_eq!(
        count(r#"function_calls_total{function="lookup",module="shape_buckets",result="ok"}"#),
        Some(2.0)
    );
    // One family header for both shapes.
    assert_eq!(
        body.matches("# TYPE function_calls_duration_seconds histogram")
            .count(),
        1
    );
    if let Some(findings) = mvi_tests::promtool_check(&body) {
        assert_eq!(findings.trim(), "", "promtool findings");
    }
    let catalog = mvi::catalog();
    let entry = catalog.get("function_calls_duration_seconds").unwrap();
    assert_eq!(entry.declarations.len(), 2);
    telemetry.shutdown().await;
}
