//! `mvi::context::current()` inside a `#[traced_handler]` is the request's trace and server span, across
//! awaits, with or without mvi's logs; outside any request it is `None`.

use axum::Router;
use axum::routing::get;
use tower::ServiceExt as _;

#[mvi::traced_handler]
async fn handler() -> String {
    let before = mvi::context::current().expect("inside a request");
    tokio::task::yield_now().await;
    let after = mvi::context::current().expect("still inside after an await");
    assert_eq!(before, after);
    format!("{}-{}", after.trace_id, after.span_id)
}

#[tokio::test]
async fn the_current_context_is_the_requests() {
    let telemetry = mvi::Telemetry::builder()
        .without_admin_server()
        .without_logs()
        .install()
        .unwrap();
    assert_eq!(mvi::context::current(), None);
    let app = Router::new().route("/", get(handler));
    let request = http::Request::get("/")
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .body(axum::body::Body::empty())
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    let traceparent = response.headers()["traceparent"]
        .to_str()
        .unwrap()
        .to_string();
    let body = axum::body::to_bytes(response.into_body(), 1024)
        .await
        .unwrap();
    let ids = String::from_utf8(body.to_vec()).unwrap();
    assert!(
        ids.starts_with("4bf92f3577b34da6a3ce929d0e0e4736-"),
        "{ids}"
    );
    assert_eq!(&traceparent[3..52], ids.as_str());
    assert_eq!(mvi::context::current(), None);
    telemetry.shutdown().await;
}
