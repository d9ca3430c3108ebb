//! Where two shapes for one series can only be seen at run time, the second is refused: the series keeps
//! its first buckets, the conflict is counted in `mvi_series_shape_conflicts_total{metric}` and logged
//! once, and the scrape stays valid.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::get;
use tower::ServiceExt as _;

struct Wrapper<T>(T);

// Lone methods: the `function` label is `Wrapper::run` for both, known only at the first call.
impl Wrapper<u8> {
    #[mvi::observe(histogram(buckets = [0.1, 1.0]))]
    fn run(&self) {}
}

impl Wrapper<u16> {
    #[mvi::observe(histogram(buckets = [1.0, 10.0]))]
    fn run(&self) {}
}

// Two handlers served on one route by two routers (say a public and an internal port).
#[mvi::traced_handler(buckets = [0.5, 5.0])]
async fn public() -> &'static str {
    "public"
}

#[mvi::traced_handler]
async fn internal() -> &'static str {
    "internal"
}

#[tokio::test]
async fn a_second_shape_is_refused_counted_and_logged_once() {
    let logs = Arc::new(Mutex::new(Vec::<u8>::new()));
    let telemetry = mvi::Telemetry::builder()
        .without_admin_server()
        .log_output(mvi::LogOutput::Writer(logs.clone()))
        .install()
        .expect("shapes known only at run time do not stop install");
    for _ in 0..3 {
        Wrapper(0u8).run();
        Wrapper(0u16).run();
    }
    let a = Router::new().route("/status", get(public));
    let b = Router::new().route("/status", get(internal));
    for router in [a.clone(), b.clone(), a, b] {
        let request = http::Request::get("/status")
            .body(axum::body::Body::empty())
            .unwrap();
        assert_eq!(router.oneshot(request).await.unwrap().status(), 200);
    }
    let body = telemetry.render();
    let les = |prefix: &str| -> Vec<&str> {
        body.lines()
            .filter_map(|l| l.strip_prefix(prefix))
            .map(|rest| rest.split('"').next().unwrap())
            .collect()
    };
    assert_eq!(
        les(
            r#"function_calls_duration_seconds_bucket{function="Wrapper::run",module="shape_conflict",le=""#
        ),
        ["0.1", "1", "+Inf"],
        "{body}"
    );
    assert_eq!(
        les(
            r#"http_request_duration_seconds_bucket{method="GET",route="/status",status="200",le=""#
        ),
        ["0.5", "5", "+Inf"],
        "{body}"
    );
    // The first shape's samples only; the requests counter has no shape and counts all.
    assert_eq!(
        mvi_tests::sample(
            &body,
            r#"function_calls_duration_seconds_count{function="Wrapper::run",module="shape_conflict"}"#
        ),
        Some(3.0)
    );
    assert_eq!(
        mvi_tests::sample(
            &body,
            r#"http_requests_total{method="GET",route="/status",status="200"}"#
        ),
        Some(4.0)
    );
    assert_eq!(
        mvi_tests::sample(
            &body,
            r#"mvi_series_shape_conflicts_total{metric="function_calls_duration_seconds"}"#
        ),
        Some(1.0),
        "one refused series: {body}"
    );
    assert_eq!(
        mvi_tests::sample(
            &body,
            r#"mvi_series_shape_conflicts_total{metric="http_request_duration_seconds"}"#
        ),
        Some(1.0),
        "{body}"
    );
    if let Some(findings) = mvi_tests::promtool_check(&body) {
        assert_eq!(findings.trim(), "", "promtool findings");
    }
    assert!(telemetry.flush_logs());
    let text = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    let warnings: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("feed one series with different buckets"))
        .collect();
    assert_eq!(warnings.len(), 2, "logged once per metric:\n{text}");
    telemetry.shutdown().await;
}
