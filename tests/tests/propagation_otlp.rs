//! Export across services: service A's server span, the `#[observe(span)]` span inside it, A's client
//! span and service B's server span reach a real OTLP receiver with the right parents, and with the
//! ids that the logs and headers carry; error, panic and cancellation reach the inner spans.
#![cfg(feature = "otlp")]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use mvi_tests::{Downstream, serve};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::{
    Span, span::SpanKind, status::StatusCode as OtelStatus,
};
use support::otlp::{attr, collector, hex};

const CALLER: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";

#[mvi::traced_handler]
async fn charge(headers: HeaderMap) -> String {
    tracing::info!("charging");
    headers["traceparent"].to_str().unwrap().to_string()
}

#[mvi::traced_handler]
async fn order(State(b): State<Downstream>) -> Result<String, StatusCode> {
    tracing::info!("ordering");
    let _ = refuse(1);
    let _ = std::panic::catch_unwind(explode);
    let _ = tokio::time::timeout(Duration::from_millis(10), never()).await;
    billing::Ledger.post(100);
    pay(&b).await.map_err(|_| StatusCode::BAD_GATEWAY)
}

#[mvi::observe(span)]
async fn pay(b: &Downstream) -> Result<String, reqwest_middleware::Error> {
    tracing::info!("paying");
    b.charge().await
}

#[derive(Debug)]
struct Declined;

mod billing {
    pub(crate) struct Ledger;

    #[mvi::observe(span)]
    impl Ledger {
        pub(crate) fn post(&self, cents: u64) -> u64 {
            tracing::info!(cents, "posting");
            cents
        }
    }
}

#[mvi::observe(span)]
fn refuse(cents: u64) -> Result<u64, Declined> {
    if cents > 0 { Err(Declined) } else { Ok(0) }
}

#[mvi::observe(span)]
fn explode() {
    panic!("boom");
}

#[mvi::observe(span)]
async fn never() {
    std::future::pending::<()>().await;
}

fn named<'a>(spans: &'a [Span], name: &str) -> &'a Span {
    spans
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no span {name:?} in {spans:#?}"))
}

fn string(value: &str) -> Option<Value> {
    Some(Value::StringValue(value.into()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_of_both_services_nest_with_the_ids_of_logs_and_headers() {
    let (collector_url, received) = collector().await;
    let logs = Arc::new(Mutex::new(Vec::<u8>::new()));
    let telemetry = mvi::Telemetry::builder()
        .service_name("shop")
        .without_admin_server()
        .log_output(mvi::LogOutput::Writer(logs.clone()))
        .otlp_endpoint(collector_url)
        .install()
        .unwrap();
    let b = serve(Router::new().route("/charge", post(charge))).await;
    let a = serve(
        Router::new()
            .route("/orders", post(order))
            .with_state(Downstream::new(reqwest::Client::new(), b.clone())),
    )
    .await;
    let response = reqwest::Client::new()
        .post(format!("{a}/orders"))
        .header("traceparent", CALLER)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let a_header = response.headers()["traceparent"]
        .to_str()
        .unwrap()
        .to_string();
    let b_received = response.text().await.unwrap();
    telemetry.shutdown().await;

    let spans: Vec<Span> = received
        .lock()
        .unwrap()
        .iter()
        .map(|(_, s)| s.clone())
        .filter(|s| hex(&s.trace_id) == TRACE)
        .collect();
    let a_server = named(&spans, "POST /orders");
    let b_server = spans
        .iter()
        .find(|s| s.name == "POST /charge")
        .unwrap_or_else(|| panic!("{spans:#?}"));
    let pay = named(&spans, "pay");
    let client = named(&spans, "POST");
    let ledger = named(&spans, "Ledger::post");

    // The chain of parents: caller → A's server span → pay → A's client span → B's server span.
    assert_eq!(hex(&a_server.parent_span_id), "b7ad6b7169203331");
    assert_eq!(a_server.kind, SpanKind::Server as i32);
    assert_eq!(pay.parent_span_id, a_server.span_id);
    assert_eq!(pay.kind, SpanKind::Internal as i32);
    assert_eq!(ledger.parent_span_id, a_server.span_id);
    assert_eq!(client.parent_span_id, pay.span_id);
    assert_eq!(client.kind, SpanKind::Client as i32);
    assert_eq!(b_server.parent_span_id, client.span_id);
    assert_eq!(b_server.kind, SpanKind::Server as i32);

    // Headers carry the exported ids.
    assert_eq!(
        a_header,
        format!("00-{TRACE}-{}-01", hex(&a_server.span_id))
    );
    assert_eq!(
        b_received,
        format!("00-{TRACE}-{}-01", hex(&client.span_id))
    );

    // Logs carry them too.
    let text = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    let line = |msg: &str| -> serde_json::Value {
        text.lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .find(|l| l["msg"] == msg)
            .unwrap_or_else(|| panic!("no {msg:?} in {text}"))
    };
    for (msg, span) in [
        ("ordering", a_server),
        ("paying", pay),
        ("posting", ledger),
        ("charging", b_server),
    ] {
        let l = line(msg);
        assert_eq!(l["trace_id"], TRACE, "{l}");
        assert_eq!(l["span_id"], hex(&span.span_id), "{l}");
    }

    // The inner span's code attributes; the client span's HTTP ones.
    assert_eq!(attr(pay, "code.function.name").cloned(), string("pay"));
    assert_eq!(
        attr(pay, "code.namespace").cloned(),
        string("propagation_otlp")
    );
    assert!(
        matches!(attr(pay, "code.filepath"), Some(Value::StringValue(f)) if f.ends_with("propagation_otlp.rs"))
    );
    assert!(
        matches!(attr(pay, "code.lineno"), Some(Value::IntValue(n)) if *n > 0),
        "{pay:?}"
    );
    assert_eq!(
        attr(ledger, "code.function.name").cloned(),
        string("Ledger::post")
    );
    assert_eq!(
        attr(ledger, "code.namespace").cloned(),
        string("propagation_otlp::billing")
    );
    assert_eq!(attr(client, "http.request.method").cloned(), string("POST"));
    assert_eq!(attr(client, "server.address").cloned(), string("127.0.0.1"));
    let port: i64 = b.rsplit(':').next().unwrap().parse().unwrap();
    assert_eq!(
        attr(client, "server.port").cloned(),
        Some(Value::IntValue(port))
    );
    assert_eq!(
        attr(client, "url.full").cloned(),
        string(&format!("{b}/charge"))
    );
    assert_eq!(
        attr(client, "http.response.status_code").cloned(),
        Some(Value::IntValue(200))
    );
    assert_eq!(
        client.status.as_ref().map_or(0, |s| s.code),
        OtelStatus::Unset as i32
    );

    // Err, panic and cancellation.
    let refused = named(&spans, "refuse");
    assert_eq!(
        refused.status.as_ref().map(|s| s.code),
        Some(OtelStatus::Error as i32)
    );
    assert_eq!(
        attr(refused, "error.type").cloned(),
        string("propagation_otlp::Declined")
    );
    let exploded = named(&spans, "explode");
    assert_eq!(
        exploded.status.as_ref().map(|s| s.code),
        Some(OtelStatus::Error as i32)
    );
    assert_eq!(attr(exploded, "error.type").cloned(), string("panic"));
    let cancelled = named(&spans, "never");
    assert_eq!(
        attr(cancelled, "mvi.cancelled").cloned(),
        Some(Value::BoolValue(true))
    );
    assert_eq!(
        cancelled.status.as_ref().map_or(0, |s| s.code),
        OtelStatus::Unset as i32
    );
    for inner in [refused, exploded, cancelled] {
        assert_eq!(inner.parent_span_id, a_server.span_id);
    }
}
