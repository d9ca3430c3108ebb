//! `shutdown()` in the order Kubernetes expects: `/readyz` answers 503 at once, the request in flight
//! finishes, then the servers stop and the logs are flushed.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use tokio::sync::Notify;

static STARTED: Notify = Notify::const_new();
static EVENTS: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());

fn event(what: &'static str) {
    EVENTS.lock().unwrap().push(what);
}

#[mvi::traced_handler]
async fn slow() -> &'static str {
    STARTED.notify_one();
    tokio::time::sleep(Duration::from_millis(400)).await;
    event("in-flight handler finished");
    "done"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_first_then_drain_then_stop_then_flush() {
    let logs = Arc::new(Mutex::new(Vec::<u8>::new()));
    let telemetry = mvi::Telemetry::builder()
        .admin_addr("127.0.0.1:0")
        .log_output(mvi::LogOutput::Writer(logs.clone()))
        .install()
        .unwrap();
    let admin = format!("http://{}", telemetry.admin_addr().unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app_url = format!("http://{}/slow", listener.local_addr().unwrap());
    let app = Router::new().route("/slow", get(slow));
    let stopping = telemetry.stopping();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(stopping)
            .await
    });

    let in_flight = tokio::spawn(async move {
        let response = reqwest::get(app_url).await.unwrap();
        response.text().await.unwrap()
    });
    STARTED.notified().await;
    assert_eq!(mvi_tests::get(&format!("{admin}/readyz")).await.0, 200);

    let shutdown = tokio::spawn(async move {
        telemetry.shutdown().await;
        event("shutdown returned");
    });
    // Readiness flips at once, while the slow request is still running.
    let mut readyz = 0;
    for _ in 0..100 {
        readyz = mvi_tests::get(&format!("{admin}/readyz")).await.0;
        if readyz == 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(readyz, 503);
    event("readyz answered 503");
    assert_eq!(
        mvi_tests::get(&format!("{admin}/livez")).await.0,
        200,
        "still alive while draining"
    );

    assert_eq!(
        in_flight.await.unwrap(),
        "done",
        "the request in flight completes"
    );
    shutdown.await.unwrap();
    server.await.unwrap().unwrap();
    assert_eq!(
        *EVENTS.lock().unwrap(),
        [
            "readyz answered 503",
            "in-flight handler finished",
            "shutdown returned"
        ]
    );
    assert!(
        reqwest::get(format!("{admin}/livez")).await.is_err(),
        "the admin server has stopped"
    );
    let text = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(
        last["msg"], "shutdown complete",
        "logs are flushed before shutdown returns"
    );
}
