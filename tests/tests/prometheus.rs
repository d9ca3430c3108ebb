//! A real Prometheus server (Debian's `prometheus`, exemplar storage on) scrapes a service on 127.0.0.1
//! every second with `deploy/prometheus/rules.yml` loaded, plus a copy of its alerts with `for: 0s`.
//! It sees the target up, stores exemplars whose trace ids are those of the requests sent (the ids of
//! the `traceparent` response headers and of the log lines), evaluates every rule without error, and
//! fires `MviHttpErrorRateHigh` after a burst of 5xx.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use mvi_tests::prometheus::{Server, eventually};
use serde_json::Value;

#[mvi::observe(counter, histogram(buckets = [0.001, 0.005, 0.025, 0.1]))]
async fn work(ms: u64) -> u64 {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    ms
}

#[mvi::traced_handler]
async fn serve_work(axum::extract::Path(ms): axum::extract::Path<u64>) -> String {
    tracing::info!(ms, "working");
    format!("worked {} ms", work(ms).await)
}

#[mvi::traced_handler]
async fn fail() -> StatusCode {
    StatusCode::INTERNAL_SERVER_ERROR
}

fn deploy(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy")
        .join(path)
        .canonicalize()
        .unwrap()
}

/// The alerts of `rules.yml` with `for: 0s`, so a fault fires at once, and a label of their own, so their
/// `ALERTS` series are not those of the shipped alerts (which stay pending for their `for`).
fn alerts_firing_at_once(rules: &str) -> String {
    let alerts = &rules[rules
        .find("  - name: mvi-alerts")
        .expect("the alerts group")..];
    let copy: Vec<String> = alerts
        .lines()
        .map(|line| {
            let trimmed = line.trim_start();
            let indent = &line[..line.len() - trimmed.len()];
            if line == "  - name: mvi-alerts" {
                "  - name: mvi-alerts-for-0s".to_string()
            } else if trimmed.starts_with("for: ") {
                format!("{indent}for: 0s")
            } else if trimmed == "labels:" {
                format!("{line}\n{indent}  copy: for-0s")
            } else {
                line.to_string()
            }
        })
        .collect();
    format!("groups:\n{}\n", copy.join("\n"))
}

/// Every rule of every group, with its group's name.
fn rules(response: &Value) -> Vec<(String, Value)> {
    response["data"]["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| {
            let group = g["name"].as_str().unwrap_or_default().to_string();
            g["rules"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |r| (group.clone(), r.clone()))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_scrapes_exemplars_evaluates_the_rules_and_fires_an_alert() {
    let logs = Arc::new(Mutex::new(Vec::<u8>::new()));
    let telemetry = mvi::Telemetry::builder()
        .service_name("prometheus-test")
        .admin_addr("127.0.0.1:0")
        .log_output(mvi::LogOutput::Writer(logs.clone()))
        .install()
        .unwrap();
    let target = telemetry.admin_addr().unwrap().to_string();
    let app = Router::new()
        .route("/work/{ms}", get(serve_work))
        .route("/fail", get(fail));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = reqwest::Client::new();

    // Requests in traces of their own (started by the handler) and in a caller's; their trace ids as
    // the response headers give them. One 5xx now, so the burst below is an increase of its series.
    let mut sent = BTreeSet::new();
    for i in 0..12u64 {
        let mut request = client.get(format!("{base}/work/{}", i % 4 * 10));
        if i % 2 == 0 {
            let trace = format!("{:032x}", 0x9e0_0000 + i);
            request = request.header("traceparent", format!("00-{trace}-00f067aa0ba902b7-01"));
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        let traceparent = response.headers()["traceparent"]
            .to_str()
            .unwrap()
            .to_string();
        sent.insert(traceparent.split('-').nth(1).unwrap().to_string());
        // Past the interval within which a bucket keeps its exemplar, so several are kept over time.
        tokio::time::sleep(Duration::from_millis(110)).await;
    }
    let response = client.get(format!("{base}/fail")).send().await.unwrap();
    assert_eq!(response.status(), 500);
    let traceparent = response.headers()["traceparent"].to_str().unwrap();
    let failed = traceparent.split('-').nth(1).unwrap().to_string();
    // Log lines reach the buffer from mvi's writer thread.
    assert!(telemetry.flush_logs());
    let logged: BTreeSet<String> = String::from_utf8(logs.lock().unwrap().clone())
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["msg"] == "working")
        .map(|l| l["trace_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        logged, sent,
        "the log lines carry the ids of the response headers"
    );
    sent.insert(failed);

    let shipped = std::fs::read_to_string(deploy("prometheus/rules.yml")).unwrap();
    let rules_files = [
        ("rules.yml", shipped.as_str()),
        ("alerts-for-0s.yml", &alerts_firing_at_once(&shipped)),
    ];
    let Some(prometheus) = Server::start(&target, &rules_files) else {
        return;
    };
    prometheus.target_up().await;

    // Exemplars of the handler's RED metrics and of the `#[observe]`d function it calls, all from
    // requests sent (only the latest per bucket is kept, so a subset of them).
    let query = "/api/v1/query_exemplars?query=%7B__name__%3D~%22http_request_duration_seconds_bucket%7Chttp_requests_total%7Cfunction_calls_total%7Cfunction_calls_duration_seconds_bucket%22%7D&start=0";
    let found = eventually("exemplars are stored", || async {
        let answer = prometheus.api(query).await.ok_or("no answer")?;
        let mut found: Vec<(String, String)> = Vec::new();
        for series in answer["data"].as_array().into_iter().flatten() {
            let name = series["seriesLabels"]["__name__"]
                .as_str()
                .unwrap_or_default();
            for e in series["exemplars"].as_array().into_iter().flatten() {
                let trace = e["labels"]["trace_id"].as_str().unwrap_or_default();
                found.push((name.to_string(), trace.to_string()));
            }
        }
        let names: BTreeSet<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
        if names.len() == 4 {
            Ok(found)
        } else {
            Err(answer.to_string())
        }
    })
    .await;
    for (name, trace) in &found {
        assert!(
            sent.contains(trace),
            "{name}: exemplar trace id {trace} was not sent: {sent:?}"
        );
    }

    // Every rule evaluates without error, the shipped ones and the copy.
    let expected = shipped.matches("- record:").count() + 2 * shipped.matches("- alert:").count();
    let shipped_and_copy = eventually("every rule is evaluated, without error", || async {
        let answer = prometheus.api("/api/v1/rules").await.ok_or("no answer")?;
        let rules = rules(&answer);
        let healthy = rules.len() == expected && rules.iter().all(|(_, r)| r["health"] == "ok");
        if healthy {
            Ok(rules)
        } else {
            Err(answer.to_string())
        }
    })
    .await;
    assert!(shipped_and_copy.iter().any(|(g, _)| g == "mvi-recording"));

    // A burst of 5xx, over a few scrapes: the copy fires, the shipped alert waits out its `for`.
    let burst = async {
        for _ in 0..15 {
            for _ in 0..20 {
                let response = client.get(format!("{base}/fail")).send().await.unwrap();
                assert_eq!(response.status(), 500);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let fired = async {
        eventually("MviHttpErrorRateHigh fires", || async {
            let answer = prometheus.api("/api/v1/rules").await.ok_or("no answer")?;
            let alert = rules(&answer)
                .into_iter()
                .find(|(g, r)| g == "mvi-alerts-for-0s" && r["name"] == "MviHttpErrorRateHigh");
            match alert {
                Some((_, rule)) if rule["state"] == "firing" => Ok(rule),
                other => Err(format!("{other:?}")),
            }
        })
        .await
    };
    let ((), rule) = tokio::join!(burst, fired);
    let alert = &rule["alerts"][0];
    assert_eq!(alert["labels"]["route"], "/fail", "{rule}");
    assert_eq!(alert["labels"]["severity"], "critical", "{rule}");
    assert_eq!(
        alert["annotations"]["runbook_url"], "deploy/runbooks/MviHttpErrorRateHigh.md",
        "{rule}"
    );
    // The shipped alert sees the same fault and waits out its `for`; no rule has failed meanwhile.
    let rules = eventually("the shipped MviHttpErrorRateHigh is pending", || async {
        let answer = prometheus.api("/api/v1/rules").await.ok_or("no answer")?;
        let rules = rules(&answer);
        let shipped = rules
            .iter()
            .find(|(g, r)| g == "mvi-alerts" && r["name"] == "MviHttpErrorRateHigh");
        match shipped {
            Some((_, rule)) if rule["state"] == "pending" => Ok(rules),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    for (group, rule) in &rules {
        assert_eq!(rule["health"], "ok", "{group}: {rule}");
    }
}
