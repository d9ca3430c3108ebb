//! `labels(tier = tier)` on one function beside a plain `#[observe]`: the same metric names, each
//! function's series with its own label names.

#[mvi::observe(labels(tier = tier))]
fn upgrade(tier: &str) -> Result<(), String> {
    if tier == "free" {
        Err("free plans cannot upgrade".into())
    } else {
        Ok(())
    }
}

#[mvi::observe]
fn list() {}

#[tokio::test]
async fn each_function_has_its_own_labels() {
    let telemetry = mvi::Telemetry::builder()
        .admin_addr("127.0.0.1:0")
        .without_logs()
        .install()
        .expect("labels on one function and none on another install together");
    upgrade("gold").unwrap();
    upgrade("free").unwrap_err();
    list();
    let (_, _, body) = mvi_tests::get(&format!(
        "http://{}/metrics",
        telemetry.admin_addr().unwrap()
    ))
    .await;
    for (series, value) in [
        (
            r#"function_calls_total{function="upgrade",module="shape_labels",result="ok",tier="gold"}"#,
            1.0,
        ),
        (
            r#"function_calls_total{function="upgrade",module="shape_labels",result="error",tier="free"}"#,
            1.0,
        ),
        (
            r#"function_calls_total{function="list",module="shape_labels",result="ok"}"#,
            1.0,
        ),
        (
            r#"function_calls_duration_seconds_count{function="upgrade",module="shape_labels",tier="gold"}"#,
            1.0,
        ),
        (
            r#"function_calls_duration_seconds_count{function="list",module="shape_labels"}"#,
            1.0,
        ),
    ] {
        assert_eq!(
            mvi_tests::sample(&body, series),
            Some(value),
            "{series}\n{body}"
        );
    }
    if let Some(findings) = mvi_tests::promtool_check(&body) {
        assert_eq!(findings.trim(), "", "promtool findings");
    }
    let entry = mvi::catalog().get("function_calls_total").unwrap();
    let labels: Vec<&[&str]> = entry
        .declarations
        .iter()
        .map(|d| d.labels.as_slice())
        .collect();
    assert_eq!(
        labels,
        [
            &["function", "module", "result", "tier"][..],
            &["function", "module", "result"][..]
        ]
    );
    telemetry.shutdown().await;
}
