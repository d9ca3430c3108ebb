//! The README's focused examples, each run as a process as a newcomer would, on free ports: it prints
//! where its routes are, its `/metrics` has the series it promises, and SIGTERM stops it cleanly (exit
//! status 0, `shutdown complete` as the last log line).
//!
//! `cargo test` builds the examples before it runs this; `cargo test --test examples` alone does not,
//! so a missing or stale example binary fails with what to run.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use mvi_tests::{get, sample};
use support::Process;

mod support;

/// An example running as a process.
struct Example(Process);

/// The example's binary, as `cargo test` (or `cargo build --examples`) left it.
fn binary(name: &str) -> PathBuf {
    let deps = std::env::current_exe().unwrap();
    let exe = deps
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join(name);
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("examples/{name}.rs"));
    let modified = |p: &PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    assert!(
        modified(&exe) >= modified(&source),
        "{} is missing or older than {}: run `cargo test -p mvi-examples`, which builds the examples",
        exe.display(),
        source.display()
    );
    exe
}

fn start(name: &str) -> Example {
    let mut command = Command::new(binary(name));
    command
        .env("MVI_ADMIN_ADDR", "127.0.0.1:0")
        .env("APP_ADDR", "127.0.0.1:0")
        .env("GIT_COMMIT", "4f2a9c1") // as a container built with the commit as a build argument has it
        .env_remove("RUST_LOG");
    Example(Process::start(command, |banner| banner.contains("http://")))
}

impl Example {
    /// The first `http://host:port` the example printed.
    fn base(&self) -> String {
        let banner = &self.0.banner;
        let url = &banner[banner.find("http://").unwrap()..];
        let end = url[7..]
            .find(|c: char| c != '.' && c != ':' && !c.is_ascii_digit())
            .map_or(url.len(), |e| e + 7);
        url[..end].trim_end_matches([':', '.']).to_string()
    }

    /// `/metrics`, scraped over HTTP.
    async fn scrape(&self) -> String {
        let (status, content_type, body) = get(&format!("{}/metrics", self.base())).await;
        assert_eq!(status, 200);
        assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
        body
    }

    /// Sends SIGTERM; the example must exit 0 with `shutdown complete` as its last log line.
    fn stop(self) {
        self.0.signal("TERM");
        let (status, lines, stdout) = self.0.finish();
        assert!(status.success(), "{status}\n{stdout}");
        assert_eq!(
            lines.last().unwrap()["msg"],
            "shutdown complete",
            "{stdout}"
        );
    }
}

fn value(exposition: &str, series: &str) -> f64 {
    sample(exposition, series).unwrap_or_else(|| panic!("no {series} in:\n{exposition}"))
}

#[tokio::test]
async fn smallest_counts_its_rolls() {
    let example = start("smallest");
    assert!(
        example
            .0
            .banner
            .starts_with("12 rolls done; scrape http://127.0.0.1:")
    );
    let metrics = example.scrape().await;
    let calls = |result| {
        format!(r#"function_calls_total{{function="roll",module="smallest",result="{result}"}}"#)
    };
    assert_eq!(value(&metrics, &calls("ok")), 10.0);
    assert_eq!(value(&metrics, &calls("error")), 2.0);
    assert_eq!(
        value(
            &metrics,
            r#"function_calls_duration_seconds_count{function="roll",module="smallest"}"#
        ),
        12.0
    );
    // The commit from the environment, for autometrics' dashboards (`service_commit` not called).
    assert_eq!(
        value(
            &metrics,
            r#"build_info{service_name="smallest",version="unknown",commit="4f2a9c1"}"#
        ),
        1.0
    );
    example.stop();
}

#[tokio::test]
async fn axum_service_serves_its_routes_and_the_admin_routes_on_one_port() {
    let example = start("axum_service");
    let base = example.base();
    assert_eq!(get(&format!("{base}/hello/ada")).await.2, "hello, ada\n");
    assert_eq!(get(&format!("{base}/hello/r2d2")).await.0, 422);
    assert_eq!(get(&format!("{base}/readyz")).await.0, 200);
    let metrics = example.scrape().await;
    let requests = |status| {
        format!(r#"http_requests_total{{method="GET",route="/hello/{{name}}",status="{status}"}}"#)
    };
    assert_eq!(value(&metrics, &requests(200)), 1.0);
    assert_eq!(value(&metrics, &requests(422)), 1.0);
    let calls = |result| {
        format!(
            r#"function_calls_total{{function="greeting",module="axum_service",result="{result}"}}"#
        )
    };
    assert_eq!(value(&metrics, &calls("ok")), 1.0);
    assert_eq!(value(&metrics, &calls("error")), 1.0);
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        value(
            &metrics,
            &format!(r#"mvi_build_info{{service="axum_service",version="{version}"}}"#)
        ),
        1.0
    );
    example.stop();
}

#[tokio::test]
async fn worker_observes_its_jobs_with_admin_routes_only() {
    let example = start("worker");
    let ok = |kind| {
        format!(
            r#"function_calls_total{{function="process",module="worker",result="ok",kind="{kind}"}}"#
        )
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let metrics = loop {
        let metrics = example.scrape().await;
        // A job every 50 ms; job 10 fails, and every third is an invoice.
        if value(&metrics, &ok("thumbnail")) >= 6.0 && value(&metrics, &ok("invoice")) >= 3.0 {
            break metrics;
        }
        assert!(Instant::now() < deadline, "no jobs done:\n{metrics}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let failed = r#"function_calls_total{function="process",module="worker",result="error",kind="thumbnail"}"#;
    assert!(value(&metrics, failed) >= 1.0, "{metrics}");
    assert!(
        sample(&metrics, "worker_jobs_queued").is_some(),
        "{metrics}"
    );
    assert!(
        sample(
            &metrics,
            r#"function_calls_concurrent{function="process",module="worker",kind="invoice"}"#
        )
        .is_some()
    );
    assert_eq!(get(&format!("{}/healthz", example.base())).await.0, 200);
    example.stop();
}

#[tokio::test]
async fn library_calls_allocate_nothing_until_the_application_installs() {
    let example = start("library");
    assert!(
        example
            .0
            .banner
            .starts_with("before install: 1000 calls, 0 allocations, nothing recorded\n"),
        "{}",
        example.0.banner
    );
    let metrics = example.scrape().await;
    let calls = r#"function_calls_total{function="distance_km",module="library::geo",result="ok"}"#;
    assert_eq!(
        value(&metrics, calls),
        3.0,
        "only the calls made after install"
    );
    example.stop();
}
