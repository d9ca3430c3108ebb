//! The README's main job, run as a newcomer would: the demo binary, as a separate process.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn selftest_prints_metrics_health_and_a_log_line_and_exits_zero() {
    let out = Command::new(env!("CARGO_BIN_EXE_demo"))
        .arg("--selftest")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo --selftest failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for section in [
        "--- /metrics (excerpt) ---",
        "--- /healthz (200 OK) ---",
        "--- a log line ---",
        "selftest ok",
    ] {
        assert!(
            stdout.contains(section),
            "missing {section:?} in:\n{stdout}"
        );
    }
    assert!(
        stdout.contains(r#"{"status":"ok","checks":{"sqlite":{"status":"ok","duration_ms":"#),
        "{stdout}"
    );
    assert!(
        stdout.contains(r#"mvi_build_info{service="shop",version="0.1.0"} 1"#),
        "{stdout}"
    );
    let log_line = stdout
        .lines()
        .skip_while(|l| !l.starts_with("--- a log line"))
        .nth(1)
        .unwrap();
    let log: serde_json::Value = serde_json::from_str(log_line).unwrap();
    assert_eq!(log["msg"], "placing order");
    assert_eq!(log["trace_id"].as_str().unwrap().len(), 32);
}

/// A port in use is a clear message and exit code 1, not a panic or a Debug dump.
#[test]
fn an_admin_port_in_use_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_demo"))
        .env("MVI_ADMIN_ADDR", &addr)
        .env("DEMO_ADDR", "127.0.0.1:0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("demo: cannot listen on {addr}: ")),
        "{stderr}"
    );
    assert!(
        stderr.contains("set DEMO_ADDR and MVI_ADMIN_ADDR to use other ports"),
        "{stderr}"
    );
}

/// `--catalog`: the metric contract as JSON, for CI to diff.
#[test]
fn catalog_prints_the_metric_contract() {
    let out = Command::new(env!("CARGO_BIN_EXE_demo"))
        .arg("--catalog")
        .output()
        .unwrap();
    assert!(out.status.success());
    let catalog: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let metrics = catalog["metrics"].as_array().unwrap();
    let orders = metrics
        .iter()
        .find(|m| m["name"] == "shop_orders_total")
        .unwrap_or_else(|| panic!("{catalog:#}"));
    assert_eq!(orders["kind"], "counter");
    assert_eq!(
        orders["labels"],
        serde_json::json!(["function", "module", "result", "region"])
    );
    let requests = metrics
        .iter()
        .find(|m| m["name"] == "http_request_duration_seconds")
        .unwrap();
    assert_eq!(requests["kind"], "histogram");
    assert_eq!(requests["buckets"][0], 0.005);
}

/// The service mode: URLs on stderr, JSON logs on stdout filtered by `RUST_LOG`, Ctrl-C shuts down.
#[test]
fn serves_until_interrupted_with_rust_log_filtering() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_demo"))
        .env("DEMO_ADDR", "127.0.0.1:0")
        .env("MVI_ADMIN_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "warn,demo=debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut banner = String::new();
    stderr.read_line(&mut banner).unwrap();
    let base = banner
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .trim_end_matches(';')
        .to_string();
    let mut rest = String::new();
    for _ in 0..4 {
        stderr.read_line(&mut rest).unwrap();
    }
    let admin = rest
        .split_whitespace()
        .find(|w| w.ends_with("/livez"))
        .unwrap()
        .to_string();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = reqwest::Client::new();
        let order = serde_json::json!({"product_id": 2, "quantity": 1, "region": "us"});
        assert_eq!(
            client
                .post(format!("{base}/orders"))
                .json(&order)
                .send()
                .await
                .unwrap()
                .status(),
            201
        );
        assert_eq!(client.get(&admin).send().await.unwrap().status(), 200);
        tokio::time::sleep(Duration::from_millis(50)).await;
    });
    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "Ctrl-C is a clean shutdown: {status}");
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["msg"] == "placing order" && l["target"] == "demo"),
        "{stdout}"
    );
    assert!(
        !lines.iter().any(|l| l["target"] == "mvi"),
        "RUST_LOG=warn hides mvi's info lines: {stdout}"
    );
}
