//! Trace export: spans reach a real OTLP/HTTP receiver (protobuf decoded with `opentelemetry-proto`)
//! with the ids the response headers carry, and `shutdown()` flushes them all.
#![cfg(feature = "otlp")]

mod support;

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::{span::SpanKind, status::StatusCode as OtelStatus};
use support::otlp::{attr, collector, hex};

#[mvi::traced_handler]
async fn order(Path(id): Path<u32>) -> Result<String, StatusCode> {
    if id == 0 {
        Err(StatusCode::SERVICE_UNAVAILABLE)
    } else {
        Ok(format!("order {id}"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_reach_the_collector_with_the_ids_of_the_headers() {
    let (collector_url, received) = collector().await;
    let telemetry = mvi::Telemetry::builder()
        .service_name("otlp-test")
        .without_admin_server()
        .otlp_endpoint(collector_url)
        .install()
        .unwrap();
    let app = Router::new().route("/orders/{id}", get(order));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = reqwest::Client::new();

    let incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let continued = client
        .get(format!("{base}/orders/5"))
        .header("traceparent", incoming)
        .send()
        .await
        .unwrap();
    let continued = continued.headers()["traceparent"]
        .to_str()
        .unwrap()
        .to_string();
    let fresh = client.get(format!("{base}/orders/0")).send().await.unwrap();
    assert_eq!(fresh.status(), 503);
    let fresh = fresh.headers()["traceparent"].to_str().unwrap().to_string();

    telemetry.shutdown().await;

    let spans = received.lock().unwrap().clone();
    assert_eq!(spans.len(), 2, "{spans:#?}");
    let (resource, first) = spans
        .iter()
        .find(|(_, s)| hex(&s.trace_id) == "0af7651916cd43dd8448eb211c80319c")
        .unwrap();
    assert!(
        resource
            .iter()
            .any(|(k, v)| k == "service.name" && v.contains("otlp-test")),
        "{resource:?}"
    );
    assert_eq!(first.name, "GET /orders/{id}");
    assert_eq!(first.kind, SpanKind::Server as i32);
    assert_eq!(hex(&first.parent_span_id), "b7ad6b7169203331");
    assert_eq!(
        continued,
        format!(
            "00-0af7651916cd43dd8448eb211c80319c-{}-01",
            hex(&first.span_id)
        )
    );
    assert_eq!(
        attr(first, "http.route"),
        Some(&Value::StringValue("/orders/{id}".into()))
    );
    assert_eq!(
        attr(first, "http.request.method"),
        Some(&Value::StringValue("GET".into()))
    );
    assert_eq!(
        attr(first, "http.response.status_code"),
        Some(&Value::IntValue(200))
    );
    assert_eq!(
        first.status.as_ref().map_or(0, |s| s.code),
        OtelStatus::Unset as i32
    );

    let (_, second) = spans
        .iter()
        .find(|(_, s)| s.parent_span_id.is_empty())
        .unwrap();
    let parts: Vec<&str> = fresh.split('-').collect();
    assert_eq!(hex(&second.trace_id), parts[1]);
    assert_eq!(hex(&second.span_id), parts[2]);
    assert_eq!(
        attr(second, "http.response.status_code"),
        Some(&Value::IntValue(503))
    );
    assert_eq!(
        attr(second, "error.type"),
        Some(&Value::StringValue("503".into()))
    );
    assert_eq!(
        second.status.as_ref().map(|s| s.code),
        Some(OtelStatus::Error as i32)
    );
}
