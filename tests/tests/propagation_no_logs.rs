//! Propagation does not depend on mvi's logs: with `without_logs()` (no `tracing` subscriber at all),
//! the `#[observe(span)]` call and the outgoing call still get spans of their own in mvi's context, and
//! the next service continues the trace.

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use mvi_tests::{Downstream, serve};

/// Answers with the `traceparent` it received and its own context.
#[mvi::traced_handler]
async fn charge(headers: HeaderMap) -> String {
    let own = mvi::context::current().unwrap();
    format!(
        "{} {}",
        headers["traceparent"].to_str().unwrap(),
        own.span_id
    )
}

#[mvi::traced_handler]
async fn order(State(b): State<Downstream>) -> String {
    let server = mvi::context::current().unwrap();
    let (inner, answer) = pay(&b).await;
    assert_eq!(inner.trace_id, server.trace_id);
    assert_ne!(inner.span_id, server.span_id);
    format!("{} {answer}", inner.span_id)
}

#[mvi::observe(span)]
async fn pay(b: &Downstream) -> (mvi::context::SpanContext, String) {
    let inner = mvi::context::current().unwrap();
    (inner, b.charge().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trace_goes_on_without_logs() {
    let telemetry = mvi::Telemetry::builder()
        .without_admin_server()
        .without_logs()
        .install()
        .unwrap();
    let b = serve(Router::new().route("/charge", post(charge))).await;
    let a = serve(
        Router::new()
            .route("/orders", post(order))
            .with_state(Downstream::new(reqwest::Client::new(), b)),
    )
    .await;
    let response = reqwest::Client::new()
        .post(format!("{a}/orders"))
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .send()
        .await
        .unwrap();
    let a_span = response.headers()["traceparent"].to_str().unwrap()[36..52].to_string();
    let body = response.text().await.unwrap();
    let parts: Vec<&str> = body.split(' ').collect();
    let (inner, b_received, b_span) = (parts[0], parts[1], parts[2]);
    assert!(
        b_received.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
        "{body}"
    );
    let client_span = &b_received[36..52];
    // Four spans, four ids: A's server span, the inner call, the client span, B's server span.
    let ids = [a_span.as_str(), inner, client_span, b_span];
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(id.len(), 16);
        assert!(!ids[..i].contains(id), "{ids:?}");
    }
    telemetry.shutdown().await;
}
