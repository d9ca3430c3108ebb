//! The runtime's own metrics, served from the application's router via `admin_router()`, pass
//! `promtool check metrics` with no finding.

use axum::Router;
use axum::routing::get;
use mvi_tests::{get as http_get, promtool_check, sample};

#[mvi::observe]
async fn work() -> u8 {
    1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn process_tokio_and_build_info_on_the_app_router() {
    let telemetry = mvi::Telemetry::builder()
        .without_admin_server()
        .without_logs()
        .service_version("1.2.3")
        .service_commit("4f2a9c1")
        .readiness_check("always", || async { Ok::<(), String>(()) })
        .install()
        .unwrap();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        assert_eq!(
            telemetry.service_name(),
            "runtime_metrics",
            "the binary's name, without cargo's hash"
        );
    }
    let app = Router::new()
        .route("/", get(|| async { "app" }))
        .merge(telemetry.admin_router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let _tasks: Vec<_> = (0..5)
        .map(|_| tokio::spawn(std::future::pending::<()>()))
        .collect();
    work().await;

    assert_eq!(http_get(&format!("{base}/")).await.2, "app");
    assert_eq!(http_get(&format!("{base}/healthz")).await.0, 200);
    let (status, content_type, body) = http_get(&format!("{base}/metrics")).await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    let service = telemetry.service_name().to_string();
    assert_eq!(
        sample(
            &body,
            &format!(r#"mvi_build_info{{service="{service}",version="1.2.3"}}"#)
        ),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        sample(
            &body,
            &format!(r#"build_info{{service_name="{service}",version="1.2.3",commit="4f2a9c1"}}"#)
        ),
        Some(1.0),
        "autometrics' build_info, which its dashboards join: {body}"
    );
    assert!(sample(&body, "tokio_alive_tasks").unwrap() >= 5.0, "{body}");
    assert!(sample(&body, "tokio_workers").unwrap() >= 1.0);
    assert!(
        body.contains("# TYPE tokio_worker_busy_seconds_total counter"),
        "{body}"
    );
    assert!(
        sample(&body, "tokio_worker_parks_total").unwrap() >= 1.0,
        "the workers have parked while waiting for this request: {body}"
    );
    assert!(
        sample(&body, "process_resident_memory_bytes").unwrap() > 0.0,
        "{body}"
    );
    assert!(
        body.contains("# TYPE process_cpu_seconds_total counter"),
        "{body}"
    );
    assert!(sample(&body, "process_open_fds").unwrap() > 0.0);
    assert_eq!(
        sample(
            &body,
            r#"function_calls_total{function="work",module="runtime_metrics",result="ok"}"#
        ),
        Some(1.0)
    );
    if let Some(findings) = promtool_check(&body) {
        assert_eq!(findings.trim(), "", "promtool findings on:\n{body}");
    }
    telemetry.shutdown().await;
}
