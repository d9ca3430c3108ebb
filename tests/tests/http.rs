//! `#[traced_handler]` on a real axum server: trace context, response headers, RED metrics, panics.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{any, get};
use mvi_tests::{get as http_get, promtool_check, sample};

#[derive(Clone)]
struct AppState {
    greeting: &'static str,
}

#[mvi::traced_handler]
async fn show_order(
    State(state): State<AppState>,
    Path(id): Path<u32>,
    headers: HeaderMap,
) -> Result<String, StatusCode> {
    tracing::info!(order_id = id, "showing order");
    if id == 0 {
        return Err(StatusCode::NOT_FOUND);
    }
    let agent = headers
        .get("user-agent")
        .map_or("?", |v| v.to_str().unwrap_or("?"));
    Ok(format!("{} order {id} ({})", state.greeting, agent.len()))
}

#[mvi::traced_handler]
async fn echo(
    State(_state): State<AppState>,
    axum::Json(value): axum::Json<serde_json::Value>,
) -> axum::Json<serde_json::Value> {
    axum::Json(value)
}

#[mvi::traced_handler]
async fn boom() -> &'static str {
    panic!("kaboom")
}

#[mvi::traced_handler(name = "brew_duration_seconds", buckets = [0.1, 1.0])]
async fn brew() -> impl axum::response::IntoResponse {
    (StatusCode::IM_A_TEAPOT, "short and stout")
}

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn parse_traceparent(v: &str) -> (String, String, String) {
    let parts: Vec<&str> = v.split('-').collect();
    assert_eq!(parts.len(), 4, "{v}");
    assert_eq!(parts[0], "00");
    (
        parts[1].to_string(),
        parts[2].to_string(),
        parts[3].to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traced_handlers_over_real_http() {
    let logs = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
    let telemetry = mvi::Telemetry::builder()
        .admin_addr("127.0.0.1:0")
        .log_output(mvi::LogOutput::Writer(logs.clone()))
        .install()
        .unwrap();
    let app = Router::new()
        .route("/orders/{id}", get(show_order))
        .route("/boom", get(boom))
        .route("/echo", axum::routing::post(echo))
        .route("/brew", any(brew))
        .with_state(AppState { greeting: "hello" });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = reqwest::Client::new();

    // A valid traceparent is continued: same trace id, a new span id, flags kept; x-request-id echoed.
    let response = client
        .get(format!("{base}/orders/42"))
        .header("traceparent", TRACEPARENT)
        .header("tracestate", "rojo=00f067aa0ba902b7")
        .header("x-request-id", "req-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (trace, span, flags) =
        parse_traceparent(response.headers()["traceparent"].to_str().unwrap());
    assert_eq!(trace, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_ne!(span, "00f067aa0ba902b7");
    assert_eq!(span.len(), 16);
    assert_eq!(flags, "01");
    assert_eq!(response.headers()["x-request-id"], "req-123");

    // The handler's log line carries the same ids as the response, as top-level JSON fields. Lines
    // are written by mvi's writer thread: flush before reading them.
    let read_logs = || -> Vec<serde_json::Value> {
        assert!(
            telemetry.flush_logs(),
            "the logs are written within the bound"
        );
        String::from_utf8(logs.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).expect("every log line is one JSON object"))
            .collect()
    };
    let lines = read_logs();
    let line = lines
        .iter()
        .find(|l| l["msg"] == "showing order" && l["order_id"] == 42)
        .expect("the handler's line");
    assert_eq!(line["trace_id"], trace.as_str());
    assert_eq!(line["span_id"], span.as_str());
    assert_eq!(line["request_id"], "req-123");
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["target"], "http");
    assert!(line["file"].as_str().unwrap().ends_with("http.rs"));
    assert!(line["time"].as_str().unwrap().ends_with('Z'));
    // No user agent sent: the handler's own extractors still see the request as it came.
    assert_eq!(response.text().await.unwrap(), "hello order 42 (1)");

    // Invalid or hostile context starts a new trace; the client never sees an error for it.
    for bad in [
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "garbage",
        &"0".repeat(8192),
    ] {
        let response = client
            .get(format!("{base}/orders/7"))
            .header("traceparent", bad)
            .header("x-request-id", "bad id with spaces")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let (trace, _, flags) =
            parse_traceparent(response.headers()["traceparent"].to_str().unwrap());
        assert_ne!(trace, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_ne!(trace, "0".repeat(32));
        assert_eq!(flags, "03", "sampled, random trace id");
        let rid = response.headers()["x-request-id"].to_str().unwrap();
        assert_eq!(
            rid.len(),
            36,
            "a generated UUID replaces an id with spaces: {rid}"
        );
        assert_eq!(&rid[14..15], "4", "a version 4 UUID: {rid}");
    }

    assert_eq!(
        client
            .get(format!("{base}/orders/0"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    // A request an extractor rejects (`Path<u32>` of "abc") is answered with the extractor's own
    // rejection, and still traced and counted.
    let response = client
        .get(format!("{base}/orders/abc"))
        .header("traceparent", TRACEPARENT)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let (trace, _, _) = parse_traceparent(response.headers()["traceparent"].to_str().unwrap());
    assert_eq!(trace, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert!(
        response.text().await.unwrap().contains("Cannot parse"),
        "axum's rejection body is kept"
    );

    // So is a body the last extractor rejects: bad JSON, and no JSON content type.
    let bad_json = client
        .post(format!("{base}/echo"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_json.status(), 400);
    assert!(bad_json.headers().contains_key("x-request-id"));
    let not_json = client
        .post(format!("{base}/echo"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 415);
    let good = client
        .post(format!("{base}/echo"))
        .header("content-type", "application/json")
        .body(r#"{"a":1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(good.text().await.unwrap(), r#"{"a":1}"#);

    // A panicking handler answers 500 and the server keeps serving.
    let response = client.get(format!("{base}/boom")).send().await.unwrap();
    assert_eq!(response.status(), 500);
    assert!(response.headers().contains_key("traceparent"));
    assert_eq!(
        client
            .get(format!("{base}/orders/1"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // Unknown methods are `_OTHER`.
    let brew = reqwest::Method::from_bytes(b"BREW").unwrap();
    assert_eq!(
        client
            .request(brew, format!("{base}/brew"))
            .send()
            .await
            .unwrap()
            .status(),
        418
    );

    let (_, _, body) = http_get(&format!(
        "http://{}/metrics",
        telemetry.admin_addr().unwrap()
    ))
    .await;
    let requests = |method: &str, route: &str, status: &str| {
        sample(
            &body,
            &format!(
                r#"http_requests_total{{method="{method}",route="{route}",status="{status}"}}"#
            ),
        )
    };
    assert_eq!(requests("GET", "/orders/{id}", "200"), Some(5.0), "{body}");
    assert_eq!(requests("GET", "/orders/{id}", "404"), Some(1.0), "{body}");
    assert_eq!(requests("GET", "/orders/{id}", "400"), Some(1.0), "{body}");
    assert_eq!(requests("POST", "/echo", "400"), Some(1.0), "{body}");
    assert_eq!(requests("POST", "/echo", "415"), Some(1.0), "{body}");
    assert_eq!(requests("POST", "/echo", "200"), Some(1.0), "{body}");
    assert_eq!(requests("GET", "/boom", "500"), Some(1.0), "{body}");
    assert_eq!(requests("_OTHER", "/brew", "418"), Some(1.0), "{body}");
    assert!(
        !body.contains("/orders/42"),
        "raw paths never become label values"
    );
    let buckets: Vec<&str> = body
        .lines()
        .filter(|l| l.starts_with("brew_duration_seconds_bucket"))
        .collect();
    assert_eq!(buckets.len(), 3, "{body}");
    assert_eq!(
        sample(
            &body,
            r#"http_request_duration_seconds_count{method="GET",route="/orders/{id}",status="200"}"#
        ),
        Some(5.0)
    );
    assert!(body.contains(r#"http_request_duration_seconds_bucket{method="GET",route="/boom",status="500",le="0.005"}"#));
    if let Some(findings) = promtool_check(&body) {
        assert_eq!(findings.trim(), "", "promtool findings");
    }

    // One access line a request, rejected and panicking ones included, inside the server span: the
    // request's ids, its method, route template and status, at ERROR for a 5xx.
    let lines = read_logs();
    let access: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["target"] == "mvi::access")
        .collect();
    assert_eq!(
        access.len(),
        12,
        "as many as http_requests_total: {access:#?}"
    );
    let first = access
        .iter()
        .find(|l| l["request_id"] == "req-123")
        .unwrap();
    assert_eq!(
        (&first["msg"], &first["level"], &first["method"]),
        (&"request".into(), &"INFO".into(), &"GET".into())
    );
    assert_eq!(
        (&first["route"], &first["status"]),
        (&"/orders/{id}".into(), &200.into())
    );
    assert_eq!(first["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(
        first["span_id"],
        span.as_str(),
        "the server span's id, as in the response"
    );
    assert!(first["duration_ms"].as_f64().unwrap() >= 0.0, "{first}");
    let by_status = |status: u16| -> Vec<&&serde_json::Value> {
        access.iter().filter(|l| l["status"] == status).collect()
    };
    let rejected = by_status(400);
    assert_eq!(rejected.len(), 2, "{rejected:#?}");
    assert!(rejected.iter().any(
        |l| l["route"] == "/orders/{id}" && l["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    ));
    assert_eq!(by_status(415)[0]["route"], "/echo");
    let panicked = by_status(500);
    assert_eq!(
        (panicked.len(), &panicked[0]["level"]),
        (1, &"ERROR".into())
    );
    assert_eq!(by_status(418)[0]["method"], "_OTHER");
    assert!(by_status(404).iter().all(|l| l["level"] == "INFO"));
    telemetry.shutdown().await;
}
