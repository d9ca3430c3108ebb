//! `/livez`, `/healthz`, `/readyz` over real HTTP: concurrent, timed, cached checks; failures, panics
//! and hangs are failed checks, never a crashed server.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mvi_tests::{get, sample};

static DB_RUNS: AtomicUsize = AtomicUsize::new(0);
static BROKEN: AtomicBool = AtomicBool::new(false);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_endpoints() {
    let telemetry = mvi::Telemetry::builder()
        .admin_addr("127.0.0.1:0")
        .without_logs()
        .check_timeout(Duration::from_millis(200))
        .check_cache(Duration::from_millis(500))
        .readiness_check("db", || async {
            DB_RUNS.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok::<(), String>(())
        })
        .readiness_check("cache", || async {
            if BROKEN.load(Ordering::SeqCst) {
                Err("connection refused")
            } else {
                Ok(())
            }
        })
        .readiness_check("panics", || async {
            if BROKEN.load(Ordering::SeqCst) {
                panic!("check blew up");
            }
            Ok::<(), &str>(())
        })
        .readiness_check("hangs", || async {
            if BROKEN.load(Ordering::SeqCst) {
                std::future::pending::<()>().await;
            }
            Ok::<(), &str>(())
        })
        .install()
        .unwrap();
    let base = format!("http://{}", telemetry.admin_addr().unwrap());

    let (status, content_type, body) = get(&format!("{base}/livez")).await;
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    assert!(content_type.starts_with("text/plain"));

    // Healthy: 200 and the JSON body of SPEC §6.
    let (status, content_type, body) = get(&format!("{base}/healthz")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(content_type, "application/json");
    let report: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(report["status"], "ok");
    for check in ["db", "cache", "panics", "hangs"] {
        assert_eq!(report["checks"][check]["status"], "ok", "{body}");
    }
    assert!(
        report["checks"]["db"]["duration_ms"].as_f64().unwrap() >= 20.0,
        "{body}"
    );
    assert!(report["checks"]["db"].get("error").is_none());
    let (status, _, _) = get(&format!("{base}/readyz")).await;
    assert_eq!(status, 200);

    // Broken: wait out the cache, then 50 concurrent probes run each check once and all get 503,
    // within the check timeout (plus generous slack for a loaded machine), not hanging.
    BROKEN.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let runs_before = DB_RUNS.load(Ordering::SeqCst);
    let started = Instant::now();
    let client = reqwest::Client::new();
    let probes = (0..50).map(|_| {
        let client = client.clone();
        let url = format!("{base}/healthz");
        tokio::spawn(async move {
            let r = client.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        })
    });
    let answers: Vec<(u16, String)> = futures_join(probes).await;
    let elapsed = started.elapsed();
    assert_eq!(
        DB_RUNS.load(Ordering::SeqCst) - runs_before,
        1,
        "50 probes, one run of the check"
    );
    assert!(answers.iter().all(|(s, _)| *s == 503));
    assert!(
        elapsed < Duration::from_secs(3),
        "a hanging check is cut off at its timeout; took {elapsed:?}"
    );
    let report: serde_json::Value = serde_json::from_str(&answers[0].1).unwrap();
    assert_eq!(report["status"], "fail");
    assert_eq!(report["checks"]["db"]["status"], "ok");
    assert_eq!(report["checks"]["cache"]["error"], "connection refused");
    assert_eq!(report["checks"]["panics"]["error"], "check panicked");
    assert_eq!(report["checks"]["hangs"]["error"], "timed out after 200 ms");

    // HEAD works, the server survived the panic, and readiness agrees.
    let head = client.head(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(head.status(), 503);
    assert_eq!(head.text().await.unwrap(), "");
    assert_eq!(get(&format!("{base}/livez")).await.0, 200);
    assert_eq!(get(&format!("{base}/readyz")).await.0, 503);

    // Check results are metrics too.
    let (_, _, metrics) = get(&format!("{base}/metrics")).await;
    assert_eq!(
        sample(&metrics, r#"mvi_health_check_up{check="db"}"#),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        sample(&metrics, r#"mvi_health_check_up{check="hangs"}"#),
        Some(0.0)
    );
    assert!(
        sample(
            &metrics,
            r#"mvi_health_check_duration_seconds_count{check="db"}"#
        )
        .unwrap()
            >= 2.0
    );
    telemetry.shutdown().await;
}

async fn futures_join<T: Send + 'static>(
    tasks: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let mut out = Vec::new();
    for t in tasks.collect::<Vec<_>>() {
        out.push(t.await.unwrap());
    }
    out
}
