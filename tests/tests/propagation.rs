//! One trace across every layer, over real HTTP: service A's handler calls an `#[observe(span)]`
//! function that calls service B through the reqwest middleware; a spawned and a blocking task log in
//! the request's trace; a message consumer continues the producer's trace (or starts one); a tower
//! client is traced the same way; a downstream that is down, slow or failing is recorded and its error
//! handed back unchanged.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use mvi_tests::{Downstream, serve};
use serde_json::Value;
use tower::{Layer as _, ServiceExt as _};

const CALLER: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

// ---- service B

/// Answers with the `traceparent` and `tracestate` it received.
#[mvi::traced_handler]
async fn charge(headers: HeaderMap) -> String {
    tracing::info!("charging");
    let header = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    format!("{} {}", header("traceparent"), header("tracestate"))
}

#[mvi::traced_handler]
async fn unavailable() -> StatusCode {
    StatusCode::SERVICE_UNAVAILABLE
}

#[mvi::traced_handler]
async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(2)).await;
    "late"
}

// ---- service A

#[mvi::traced_handler]
async fn order(State(b): State<Downstream>) -> Result<String, StatusCode> {
    tracing::info!("ordering");
    pay(&b).await.map_err(|_| StatusCode::BAD_GATEWAY)
}

#[mvi::observe(span)]
async fn pay(b: &Downstream) -> Result<String, reqwest_middleware::Error> {
    tracing::info!("paying");
    b.charge().await
}

#[mvi::traced_handler]
async fn background() -> &'static str {
    mvi::spawn(async { tracing::info!("in a spawned task") })
        .await
        .unwrap();
    mvi::spawn_blocking(|| tracing::info!("in a blocking task"))
        .await
        .unwrap();
    "done"
}

// ---- a message consumer

struct Message {
    headers: HashMap<String, String>,
    body: String,
}

#[mvi::observe(span(parent = mvi::propagation::extract_from(&message.headers)))]
fn consume(message: &Message) -> usize {
    tracing::info!(body = %message.body, "consumed");
    message.body.len()
}

fn lines(buffer: &Mutex<Vec<u8>>) -> Vec<Value> {
    String::from_utf8(buffer.lock().unwrap().clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn line<'a>(lines: &'a [Value], msg: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["msg"] == msg)
        .unwrap_or_else(|| panic!("no line {msg:?} in {lines:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_trace_across_handlers_functions_calls_tasks_and_messages() {
    let buffer = Arc::new(Mutex::new(Vec::<u8>::new()));
    let telemetry = mvi::Telemetry::builder()
        .service_name("propagation")
        .without_admin_server()
        .log_output(mvi::LogOutput::Writer(buffer.clone()))
        .install()
        .unwrap();
    let b = serve(
        Router::new()
            .route("/charge", post(charge))
            .route("/unavailable", get(unavailable))
            .route("/slow", get(slow)),
    )
    .await;
    let downstream = Downstream::new(
        reqwest::Client::builder()
            .timeout(Duration::from_millis(300))
            .build()
            .unwrap(),
        b.clone(),
    );
    let client = downstream.client.clone();
    let a = serve(
        Router::new()
            .route("/orders", post(order))
            .route("/background", get(background))
            .with_state(downstream),
    )
    .await;
    let plain = reqwest::Client::new();

    // A → (#[observe(span)] pay) → client span → B, all in the caller's trace.
    let response = plain
        .post(format!("{a}/orders"))
        .header("traceparent", CALLER)
        .header("tracestate", "congo=t61rcWkgMzE")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let a_traceparent = response.headers()["traceparent"]
        .to_str()
        .unwrap()
        .to_string();
    let echoed = response.text().await.unwrap();
    let (b_received, b_tracestate) = echoed.split_once(' ').unwrap();
    assert_eq!(b_tracestate, "congo=t61rcWkgMzE");
    let a_server_span = &a_traceparent[36..52];
    let client_span = &b_received[36..52];
    assert!(a_traceparent.starts_with(&format!("00-{TRACE}-")));
    assert!(b_received.starts_with(&format!("00-{TRACE}-")));
    assert!(b_received.ends_with("-01"));

    // ---- spawned work
    let response = plain
        .get(format!("{a}/background"))
        .header("traceparent", CALLER)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let background_span = response.headers()["traceparent"].to_str().unwrap()[36..52].to_string();

    // ---- a consumer: the producer's trace continues; a message without one starts a new trace.
    let mut headers = HashMap::new();
    let producer = mvi::propagation::extract(&{
        let mut h = http::HeaderMap::new();
        h.insert(
            "traceparent",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
                .parse()
                .unwrap(),
        );
        h
    })
    .unwrap();
    producer.in_scope(|| mvi::propagation::inject_into(&mut headers));
    assert_eq!(
        headers["traceparent"],
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    );
    let consumed = std::thread::spawn(move || {
        let traced = consume(&Message {
            headers,
            body: "with a trace".into(),
        });
        let fresh = consume(&Message {
            headers: HashMap::new(),
            body: "without".into(),
        });
        (traced, fresh, mvi::context::current())
    })
    .join()
    .unwrap();
    assert_eq!(consumed, (12, 7, None));

    // ---- a tower client, through the layer, in a trace of its own making.
    let tower_client = mvi::client::Layer::new().layer(tower::service_fn(
        |request: http::Request<String>| async move {
            let request = reqwest::Request::try_from(request).unwrap();
            let response = reqwest::Client::new().execute(request).await?;
            let status = response.status();
            let body = response.text().await?;
            Ok::<_, reqwest::Error>(http::Response::builder().status(status).body(body).unwrap())
        },
    ));
    let scoped = mvi::propagation::extract_from(&HashMap::from([(
        "traceparent".to_string(),
        "00-11111111111111111111111111111111-2222222222222222-01".to_string(),
    )]))
    .unwrap();
    let via_tower = scoped
        .scope(
            tower_client.clone().oneshot(
                http::Request::post(format!("{b}/charge"))
                    .body(String::new())
                    .unwrap(),
            ),
        )
        .await
        .unwrap();
    assert_eq!(via_tower.status(), 200);
    let via_tower = via_tower.into_body();
    assert!(
        via_tower.starts_with("00-11111111111111111111111111111111-"),
        "{via_tower}"
    );
    assert_ne!(
        &via_tower[36..52],
        "2222222222222222",
        "a client span of its own"
    );

    // ---- failures: recorded, and the caller gets reqwest's own error or response.
    let down = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let refused = client
        .get(format!("http://{down}/charge"))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, reqwest_middleware::Error::Reqwest(e) if e.is_connect()),
        "{refused:?}"
    );
    let timed_out = client.get(format!("{b}/slow")).send().await.unwrap_err();
    assert!(
        matches!(&timed_out, reqwest_middleware::Error::Reqwest(e) if e.is_timeout()),
        "{timed_out:?}"
    );
    let failing = client
        .get(format!("{b}/unavailable?token=secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(failing.status(), 503);

    let metrics = telemetry.render();
    telemetry.shutdown().await;
    let lines = lines(&buffer);

    // One trace id in A's logs, B's logs and A's response; each line with its own span.
    let ordering = line(&lines, "ordering");
    let paying = line(&lines, "paying");
    let charging = line(&lines, "charging");
    for l in [ordering, paying, charging] {
        assert_eq!(l["trace_id"], TRACE, "{l}");
    }
    assert_eq!(ordering["span_id"], a_server_span);
    let pay_span = paying["span_id"].as_str().unwrap();
    assert_ne!(
        pay_span, a_server_span,
        "the observed function has a child span"
    );
    assert_eq!(paying["request_id"], ordering["request_id"]);
    assert_ne!(
        client_span, pay_span,
        "the call has a client span of its own"
    );
    assert_ne!(charging["span_id"], client_span);
    assert_ne!(charging["request_id"], ordering["request_id"]);

    for msg in ["in a spawned task", "in a blocking task"] {
        let l = line(&lines, msg);
        assert_eq!(l["trace_id"], TRACE, "{l}");
        assert_eq!(l["span_id"], background_span.as_str(), "{l}");
    }

    let consumed = lines
        .iter()
        .filter(|l| l["msg"] == "consumed")
        .collect::<Vec<_>>();
    assert_eq!(consumed.len(), 2);
    assert_eq!(consumed[0]["trace_id"], "0af7651916cd43dd8448eb211c80319c");
    assert_ne!(consumed[0]["span_id"], "b7ad6b7169203331");
    let fresh = consumed[1]["trace_id"].as_str().unwrap();
    assert_eq!(fresh.len(), 32);
    assert_ne!(fresh, "0af7651916cd43dd8448eb211c80319c");

    // Client RED metrics, labelled by what happened.
    for series in [
        r#"http_client_requests_total{method="POST",server_address="127.0.0.1",status="200",error_type=""} 2"#,
        r#"http_client_requests_total{method="GET",server_address="127.0.0.1",status="none",error_type="connect"} 1"#,
        r#"http_client_requests_total{method="GET",server_address="127.0.0.1",status="none",error_type="timeout"} 1"#,
        r#"http_client_requests_total{method="GET",server_address="127.0.0.1",status="503",error_type="503"} 1"#,
        r#"http_client_request_duration_seconds_count{method="GET",server_address="127.0.0.1",status="none",error_type="timeout"} 1"#,
        "# TYPE http_client_request_duration_seconds histogram",
        "# HELP http_client_requests_total Outgoing HTTP requests",
    ] {
        assert!(metrics.contains(series), "{series} not in\n{metrics}");
    }
    assert!(!metrics.contains("secret"));
}
