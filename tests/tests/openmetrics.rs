//! `/metrics` negotiated as OpenMetrics 1.0 with exemplars (read back by the official Python parser) or
//! as the Prometheus text format (checked by `promtool`), gzip-compressed when asked, with the same
//! series names in both.

use std::collections::BTreeSet;
use std::io::Read as _;

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;
use mvi_tests::{openmetrics_parse, promtool_check};
use serde_json::Value;

/// What Prometheus 2.42 sends when it scrapes.
const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

#[mvi::observe(counter, histogram(buckets = [0.001, 0.01, 0.1, 1.0]))]
async fn charge(ms: u64) -> Result<u64, String> {
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    if ms == 13 {
        Err("unlucky".into())
    } else {
        Ok(ms)
    }
}

#[mvi::observe]
fn untraced() -> u32 {
    7
}

#[mvi::traced_handler]
async fn pay(Path(ms): Path<u64>) -> Result<String, StatusCode> {
    charge(ms)
        .await
        .map(|ms| format!("paid after {ms} ms"))
        .map_err(|_| StatusCode::PAYMENT_REQUIRED)
}

/// GETs `url` in a caller's trace `trace`, with W3C trace flags `flags`.
async fn pay_in(
    client: &reqwest::Client,
    url: &str,
    trace: &str,
    flags: &str,
) -> reqwest::Response {
    client
        .get(url)
        .header(
            "traceparent",
            format!("00-{trace}-00f067aa0ba902b7-{flags}"),
        )
        .send()
        .await
        .unwrap()
}

async fn scrape(
    base: &str,
    accept: &str,
    encoding: &str,
) -> (String, reqwest::header::HeaderMap, Vec<u8>) {
    let response = reqwest::Client::new()
        .get(format!("{base}/metrics"))
        .header("accept", accept)
        .header("accept-encoding", encoding)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    let content_type = headers["content-type"].to_str().unwrap().to_string();
    (
        content_type,
        headers,
        response.bytes().await.unwrap().to_vec(),
    )
}

/// `name{labels}` of every sample line, exemplars and comments left out.
fn sample_keys(exposition: &str) -> BTreeSet<String> {
    exposition
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let l = l.split(" # {").next().unwrap();
            l[..l.rfind(' ').unwrap()].to_string()
        })
        .collect()
}

fn family<'a>(families: &'a [Value], name: &str) -> &'a Value {
    families
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no family {name}"))
}

/// Samples of `family` named `sample` whose labels include `labels`.
fn samples<'a>(family: &'a Value, sample: &str, labels: &[(&str, &str)]) -> Vec<&'a Value> {
    family["samples"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["name"] == sample && labels.iter().all(|(k, v)| s["labels"][*k] == *v))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openmetrics_with_exemplars_text_and_gzip() {
    let telemetry = mvi::Telemetry::builder()
        .service_name("openmetrics-test")
        .admin_addr("127.0.0.1:0")
        .without_logs()
        .install()
        .unwrap();
    let admin = format!("http://{}", telemetry.admin_addr().unwrap());
    let app = Router::new().route("/pay/{ms}", get(pay));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    // Sampled requests, one unsampled, and a call outside any trace.
    let client = reqwest::Client::new();
    let mut sampled = BTreeSet::new();
    let mut span_ids = BTreeSet::new();
    for (i, ms) in [2u64, 3, 20, 13].into_iter().enumerate() {
        let trace = format!("{:032x}", 0x5eed_0000 + i);
        let response = pay_in(&client, &format!("{base}/pay/{ms}"), &trace, "01").await;
        let echoed = response.headers()["traceparent"]
            .to_str()
            .unwrap()
            .to_string();
        span_ids.insert(echoed.split('-').nth(2).unwrap().to_string());
        sampled.insert(trace);
        // Past the interval within which a bucket keeps its exemplar.
        tokio::time::sleep(std::time::Duration::from_millis(110)).await;
    }
    let unsampled = format!("{:032x}", 0xdead_beefu32);
    let response = pay_in(&client, &format!("{base}/pay/2"), &unsampled, "00").await;
    assert_eq!(response.status(), 200);
    assert_eq!(untraced(), 7);

    // Users' own metrics: a counter without `_total`, HELP with quotes, a unit, an infinite gauge.
    metrics::describe_counter!("jobs", "Jobs \"done\", by kind.\nSecond line \\ here.");
    metrics::counter!("jobs", "kind" => "a \"quoted\" \\ value\nwith newline").increment(2);
    metrics::describe_gauge!("queue_bytes", metrics::Unit::Bytes, "Bytes queued.");
    metrics::gauge!("queue_bytes").set(512.0);
    metrics::describe_gauge!("limit_ratio", "A limit, unbounded here.");
    metrics::gauge!("limit_ratio").set(f64::INFINITY);
    metrics::describe_histogram!("payload_size_seconds", "A histogram given a NaN.");
    metrics::histogram!("payload_size_seconds").record(f64::NAN);

    // OpenMetrics, as Prometheus asks for it.
    let (content_type, headers, body) = scrape(&admin, PROMETHEUS_ACCEPT, "identity").await;
    assert_eq!(
        content_type,
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert_eq!(content_type, mvi::OPENMETRICS_CONTENT_TYPE);
    assert_eq!(headers["vary"], "accept, accept-encoding");
    assert!(headers.get("content-encoding").is_none());
    let om = String::from_utf8(body).unwrap();
    assert!(om.ends_with("\n# EOF\n"), "{om}");
    assert!(!om.contains("\n\n"), "no blank lines in OpenMetrics");
    assert!(om.contains("# TYPE jobs counter\n"), "{om}");
    assert!(
        om.contains("# HELP jobs Jobs \\\"done\\\", by kind.\\nSecond line \\\\ here.\n"),
        "{om}"
    );
    assert!(om.contains("# TYPE http_requests counter\n"), "{om}");
    assert!(
        om.contains("# UNIT http_request_duration_seconds seconds\n"),
        "{om}"
    );
    assert!(om.contains("# UNIT queue_bytes bytes\n"), "{om}");
    assert!(om.contains("limit_ratio +Inf\n"), "{om}");
    let exemplar_line = om
        .lines()
        .find(|l| {
            l.starts_with("http_requests_total{method=\"GET\",route=\"/pay/{ms}\",status=\"200\"}")
        })
        .unwrap_or_else(|| panic!("{om}"));
    assert!(exemplar_line.contains(" # {trace_id=\""), "{exemplar_line}");
    assert!(
        !om.contains(&unsampled),
        "an unsampled trace leaves no exemplar"
    );

    // The official parser reads it; the exemplars are those of the sampled requests.
    if let Some(families) = openmetrics_parse(&om) {
        let families = families.as_array().unwrap();
        let jobs = family(families, "jobs");
        assert_eq!(jobs["type"], "counter");
        assert_eq!(
            jobs["help"],
            "Jobs \"done\", by kind.\nSecond line \\ here."
        );
        let jobs = samples(
            jobs,
            "jobs_total",
            &[("kind", "a \"quoted\" \\ value\nwith newline")],
        );
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0]["value"], 2.0);
        assert_eq!(
            family(families, "http_request_duration_seconds")["unit"],
            "seconds"
        );
        let check_exemplar = |sample: &Value| {
            let e = &sample["exemplar"];
            let trace = e["labels"]["trace_id"].as_str().unwrap();
            assert!(sampled.contains(trace), "{sample}");
            assert!(
                span_ids.contains(e["labels"]["span_id"].as_str().unwrap()),
                "{sample}"
            );
            let age = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs_f64()
                - e["timestamp"].as_f64().unwrap();
            assert!((0.0..60.0).contains(&age), "{sample}");
        };
        // The RED metrics of the handler.
        let requests = family(families, "http_requests");
        for status in ["200", "402"] {
            let ok = samples(requests, "http_requests_total", &[("status", status)]);
            check_exemplar(ok[0]);
        }
        let buckets = samples(
            family(families, "http_request_duration_seconds"),
            "http_request_duration_seconds_bucket",
            &[("status", "200")],
        );
        let with: Vec<_> = buckets
            .iter()
            .filter(|s| !s["exemplar"].is_null())
            .collect();
        assert!(!with.is_empty(), "{buckets:?}");
        for sample in with {
            check_exemplar(sample);
            let le: f64 = sample["labels"]["le"]
                .as_str()
                .unwrap()
                .replace("+Inf", "inf")
                .parse()
                .unwrap();
            assert!(
                sample["exemplar"]["value"].as_f64().unwrap() <= le,
                "{sample}"
            );
        }
        // `#[observe]` inside the traced request: its counter and the buckets the calls fell in.
        let calls = family(families, "function_calls");
        for result in ["ok", "error"] {
            let charged = samples(
                calls,
                "function_calls_total",
                &[("function", "charge"), ("result", result)],
            );
            check_exemplar(charged[0]);
        }
        let charge_buckets = samples(
            family(families, "function_calls_duration_seconds"),
            "function_calls_duration_seconds_bucket",
            &[("function", "charge")],
        );
        // 2 and 3 ms fall at or below 10 ms; 13 and 20 ms at or below 100 ms: both buckets hold one.
        for le in ["0.01", "0.1"] {
            let bucket = charge_buckets
                .iter()
                .find(|s| s["labels"]["le"] == le)
                .unwrap();
            check_exemplar(bucket);
        }
        let first = charge_buckets
            .iter()
            .find(|s| s["labels"]["le"] == "0.001")
            .unwrap();
        assert!(first["exemplar"].is_null(), "{first}");
        // A call outside any trace leaves none.
        for s in samples(calls, "function_calls_total", &[("function", "untraced")]) {
            assert!(s["exemplar"].is_null(), "{s}");
        }
    }

    // The text format: no exemplars, no `# EOF`, the same series names, and promtool agrees.
    let (content_type, _, body) = scrape(&admin, "text/plain;version=0.0.4", "identity").await;
    assert_eq!(content_type, mvi::PROMETHEUS_CONTENT_TYPE);
    let text = String::from_utf8(body).unwrap();
    assert!(!text.contains("# EOF") && !text.contains(" # {"), "{text}");
    assert!(text.contains("# TYPE jobs_total counter\n"), "{text}");
    assert!(
        text.contains("# HELP jobs_total Jobs \"done\", by kind.\\nSecond line \\\\ here.\n"),
        "{text}"
    );
    assert_eq!(
        sample_keys(&text),
        sample_keys(&om),
        "the same series in both formats"
    );
    if let Some(findings) = promtool_check(&text) {
        assert_eq!(findings, "", "promtool check metrics:\n{findings}\n{text}");
    }

    // gzip in both formats when Accept-Encoding allows it.
    for (accept, tail) in [(PROMETHEUS_ACCEPT, "# EOF\n"), ("*/*", "\n")] {
        let (_, headers, body) = scrape(&admin, accept, "gzip, deflate").await;
        assert_eq!(headers["content-encoding"], "gzip");
        let mut unzipped = String::new();
        flate2::read::GzDecoder::new(&body[..])
            .read_to_string(&mut unzipped)
            .unwrap();
        assert!(unzipped.ends_with(tail), "{unzipped}");
        assert!(
            body.len() * 3 < unzipped.len(),
            "{} of {}",
            body.len(),
            unzipped.len()
        );
        assert_eq!(sample_keys(&unzipped), sample_keys(&text));
    }
}
