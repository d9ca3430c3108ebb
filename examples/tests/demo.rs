//! The README's main job, run as a newcomer would: the demo binary, as a separate process.

use std::process::Command;
use std::time::Duration;

use support::Process;

mod support;

#[test]
fn selftest_prints_metrics_health_and_the_log_lines_of_both_hops_and_exits_zero() {
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
        "--- /metrics as OpenMetrics (the traced request's exemplars) ---",
        "--- /healthz (200 OK) ---",
        "--- the log lines of the traced request: the shop, then the payments service ---",
        "one trace across both hops: 4bf92f3577b34da6a3ce929d0e0e4736 (shop log, payments log, response traceparent)\n",
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
    // Business metrics: items sold by region, the stock read from the database at the scrape (40
    // kettles less those sold), the value of orders.
    for line in [
        "# TYPE shop_items_sold_total counter",
        "# TYPE shop_stock_items gauge",
        "# TYPE shop_order_value_euros histogram",
    ] {
        assert!(stdout.lines().any(|l| l == line), "{line} in:\n{stdout}");
    }
    let value = |series: &str| {
        stdout
            .lines()
            .find_map(|l| {
                l.strip_prefix(series)?
                    .strip_prefix(' ')?
                    .parse::<f64>()
                    .ok()
            })
            .unwrap_or_else(|| panic!("{series} in:\n{stdout}"))
    };
    let kettles = value(r#"shop_stock_items{product="kettle"}"#);
    assert!((0.0..40.0).contains(&kettles), "{stdout}");
    let sold: f64 = ["eu", "us", "apac"]
        .iter()
        .map(|r| value(&format!(r#"shop_items_sold_total{{region="{r}"}}"#)))
        .sum();
    assert!(sold > 0.0, "{stdout}");
    assert!(
        value(r#"shop_order_value_euros_count{region="eu"}"#) > 0.0,
        "{stdout}"
    );
    let mut hops = stdout
        .lines()
        .skip_while(|l| !l.starts_with("--- the log lines"))
        .skip(1)
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap());
    let (log, payments) = (hops.next().unwrap(), hops.next().unwrap());
    assert_eq!(log["msg"], "placing order");
    assert_eq!(log["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(log["request_id"], "selftest-1");
    // The second hop, the payments service called over HTTP, continues the same trace in a span of
    // its own.
    assert_eq!(payments["msg"], "charging");
    assert_eq!(payments["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_ne!(payments["span_id"], log["span_id"]);
    assert!(
        stdout.contains(r#"http_client_requests_total{method="POST",server_address="127.0.0.1",status="200",error_type=""}"#),
        "{stdout}"
    );
    let traceparent = stdout
        .lines()
        .find_map(|l| l.strip_prefix("response traceparent: "))
        .unwrap();
    assert!(
        traceparent.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
        "{traceparent}"
    );
    assert!(traceparent.contains(log["span_id"].as_str().unwrap()));
    // The OpenMetrics scrape shows the traced request's exemplars: the same trace and span.
    let exemplar = format!(
        " # {{trace_id=\"4bf92f3577b34da6a3ce929d0e0e4736\",span_id=\"{}\"}} 1 ",
        log["span_id"].as_str().unwrap()
    );
    assert!(
        stdout.lines().any(|l| l
            .starts_with(r#"http_requests_total{method="POST",route="/orders",status="201"} "#)
            && l.contains(&exemplar)),
        "{stdout}"
    );
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

/// What `demo --catalog` prints.
fn demo_catalog() -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_demo"))
        .arg("--catalog")
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

/// `--catalog`: the metric catalog as JSON.
#[test]
fn catalog_prints_the_metric_catalog() {
    let catalog: serde_json::Value = serde_json::from_str(&demo_catalog()).unwrap();
    let metrics = catalog["metrics"].as_array().unwrap();
    let orders = metrics
        .iter()
        .find(|m| m["name"] == "shop_orders_total")
        .unwrap_or_else(|| panic!("{catalog:#}"));
    assert_eq!(orders["kind"], "counter");
    assert_eq!(
        orders["declarations"][0]["labels"],
        serde_json::json!(["function", "module", "result", "region"])
    );
    let requests = metrics
        .iter()
        .find(|m| m["name"] == "http_request_duration_seconds")
        .unwrap();
    assert_eq!(requests["kind"], "histogram");
    assert_eq!(requests["declarations"][0]["buckets"][0], 0.005);
    // The business metrics of `mvi::metrics!`, each declared once, by its static.
    let declared = |name: &str| {
        metrics
            .iter()
            .find(|m| m["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {catalog:#}"))
    };
    let sold = declared("shop_items_sold_total");
    assert_eq!(sold["kind"], "counter");
    assert_eq!(sold["help"], "Items sold, by region.");
    assert_eq!(sold["declarations"][0]["function"], "ITEMS_SOLD");
    assert_eq!(
        sold["declarations"][0]["labels"],
        serde_json::json!(["region"])
    );
    assert_eq!(declared("shop_stock_items")["kind"], "gauge");
    let value = declared("shop_order_value_euros");
    assert_eq!(value["unit"], "euros");
    assert_eq!(
        value["declarations"][0]["buckets"],
        serde_json::json!([5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 640.0])
    );
}

/// The demo's metric contract: the binary's own catalog (its handlers are in the binary, which no test
/// links) against `examples/metrics.contract.json`. `MVI_CONTRACT_BLESS=1` writes it anew.
#[test]
fn the_demo_keeps_its_metric_contract() {
    mvi::contract::check_catalog_json(&demo_catalog(), "metrics.contract.json");
}

/// The demo as a process on free ports: its application and admin base URLs, read from its banner.
struct Demo {
    process: Process,
    base: String,
    admin: String,
}

fn start_demo(env: &[(&str, &str)]) -> Demo {
    let mut command = Command::new(env!("CARGO_BIN_EXE_demo"));
    command
        .env("DEMO_ADDR", "127.0.0.1:0")
        .env("MVI_ADMIN_ADDR", "127.0.0.1:0")
        .envs(env.iter().copied());
    let process = Process::start(command, |banner| banner.contains("JSON logs follow"));
    let url = |suffix: &str| {
        process
            .banner
            .split_whitespace()
            .find(|w| w.starts_with("http://") && w.ends_with(suffix))
            .unwrap_or_else(|| panic!("no {suffix} URL in the banner:\n{}", process.banner))
            .trim_end_matches(suffix)
            .to_string()
    };
    Demo {
        base: url(";"),
        admin: url("/livez"),
        process,
    }
}

impl Demo {
    fn signal(&self, name: &str) {
        self.process.signal(name);
    }

    /// Waits for the exit; the exit status and the JSON log lines written on stdout.
    fn finish(self) -> (std::process::ExitStatus, Vec<serde_json::Value>, String) {
        self.process.finish()
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The service mode: URLs on stderr, JSON logs on stdout filtered by `RUST_LOG`, Ctrl-C shuts down.
#[test]
fn serves_until_interrupted_with_rust_log_filtering() {
    let demo = start_demo(&[("RUST_LOG", "warn,demo=debug")]);
    let (base, admin) = (demo.base.clone(), demo.admin.clone());
    runtime().block_on(async {
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
        assert_eq!(
            client
                .get(format!("{admin}/livez"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    });
    demo.signal("INT");
    let (status, lines, stdout) = demo.finish();
    assert!(status.success(), "Ctrl-C is a clean shutdown: {status}");
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

/// What Kubernetes does to a pod: SIGTERM. `/readyz` turns 503 at once while `/livez` stays 200; the
/// application keeps serving through the drain delay; the slow request in flight completes; the last
/// log line is `shutdown complete`; the exit status is 0.
#[test]
fn sigterm_drains_gracefully() {
    let demo = start_demo(&[("MVI_SHUTDOWN_DELAY", "2s")]);
    let (base, admin) = (demo.base.clone(), demo.admin.clone());
    let rt = runtime();
    let client = reqwest::Client::new();
    let slow = rt.spawn({
        let client = client.clone();
        let url = format!("{base}/slow/3000");
        async move {
            let response = client.get(url).send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    });
    // Let the slow request reach its handler; the drain delay leaves it ample time besides.
    rt.block_on(async { tokio::time::sleep(Duration::from_millis(300)).await });
    demo.signal("TERM");
    rt.block_on(async {
        let get = |url: String| {
            let client = client.clone();
            async move { client.get(url).send().await.map(|r| r.status().as_u16()) }
        };
        let mut readyz = 0;
        for _ in 0..200 {
            readyz = get(format!("{admin}/readyz")).await.unwrap();
            if readyz == 503 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(readyz, 503, "/readyz turns 503 on SIGTERM");
        assert_eq!(get(format!("{admin}/livez")).await.unwrap(), 200);
        // Still inside the drain delay: the application accepts new requests.
        assert_eq!(get(format!("{base}/products")).await.unwrap(), 200);
    });
    let (status, body) = rt.block_on(slow).unwrap();
    assert_eq!((status, body.as_str()), (200, "answered after 3000 ms\n"));
    let (exit, lines, stdout) = demo.finish();
    assert!(exit.success(), "{exit}\n{stdout}");
    let msgs: Vec<&str> = lines.iter().filter_map(|l| l["msg"].as_str()).collect();
    assert_eq!(msgs.last(), Some(&"shutdown complete"), "{stdout}");
    let position = |m: &str| msgs.iter().position(|x| *x == m);
    assert!(
        position("stopping gracefully; a second signal stops at once")
            < position("shutdown complete"),
        "{stdout}"
    );
    let installed = lines
        .iter()
        .find(|l| l["msg"] == "telemetry installed")
        .unwrap_or_else(|| panic!("{stdout}"));
    assert_eq!(installed["service"], "shop");
    assert_eq!(installed["admin"], admin);
}

/// A second signal during the drain exits at once: the first stop is graceful, the second is not.
#[test]
fn a_second_signal_exits_at_once() {
    let demo = start_demo(&[("MVI_SHUTDOWN_DELAY", "60s")]);
    let admin = demo.admin.clone();
    demo.signal("TERM");
    runtime().block_on(async {
        for _ in 0..200 {
            let status = reqwest::get(format!("{admin}/readyz"))
                .await
                .unwrap()
                .status();
            if status == 503 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("/readyz never turned 503");
    });
    demo.signal("TERM");
    let (exit, lines, stdout) = demo.finish();
    assert_eq!(exit.code(), Some(143), "{stdout}");
    assert_eq!(
        lines.last().unwrap()["msg"],
        "second signal: exiting at once",
        "{stdout}"
    );
}

/// `MVI_LOG_RATE_LIMIT=200` under load: at most about 200 access lines a second (in the lines' own
/// `time`; a line stamped as a second ends may count in the next one, hence the 5 of slack), and every
/// request either has its access line or is counted as sampled out by the budget.
#[test]
fn a_log_budget_of_200_lines_a_second_under_load() {
    let demo = start_demo(&[("MVI_LOG_RATE_LIMIT", "200")]);
    let (base, admin) = (demo.base.clone(), demo.admin.clone());
    let rt = runtime();
    let client = reqwest::Client::new();
    // Eight clients for two and a half seconds: thousands of requests a second, on any machine far
    // above 200.
    let deadline = std::time::Instant::now() + Duration::from_millis(2500);
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let (client, url) = (client.clone(), format!("{base}/products"));
            rt.spawn(async move {
                let mut sent = 0;
                while std::time::Instant::now() < deadline {
                    let status = client.get(&url).send().await.unwrap().status();
                    assert_eq!(status, 200);
                    sent += 1;
                }
                sent
            })
        })
        .collect();
    let (sent, metrics) = rt.block_on(async {
        let mut sent = 0;
        for c in clients {
            sent += c.await.unwrap();
        }
        let metrics = reqwest::get(format!("{admin}/metrics")).await.unwrap();
        (sent, metrics.text().await.unwrap())
    });
    demo.signal("TERM");
    let (exit, lines, stdout) = demo.finish();
    assert!(exit.success(), "{exit}");

    let access: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["target"] == "mvi::access")
        .collect();
    let mut per_second = std::collections::BTreeMap::<&str, usize>::new();
    for l in &access {
        *per_second
            .entry(&l["time"].as_str().unwrap()[..19])
            .or_default() += 1;
    }
    assert!(per_second.values().all(|n| *n <= 205), "{per_second:?}");
    let dropped = |reason: &str| {
        let series =
            format!(r#"mvi_log_events_sampled_out_total{{level="info",reason="{reason}"}} "#);
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&series)?.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no {series} in {metrics}")) as usize
    };
    assert!(dropped("budget") > 0, "{metrics}");
    assert_eq!(
        access.len() + dropped("budget") + dropped("queue_full"),
        sent,
        "{per_second:?}"
    );
    let first = access[0];
    assert_eq!(
        (
            &first["msg"],
            &first["method"],
            &first["route"],
            &first["status"]
        ),
        (
            &"request".into(),
            &"GET".into(),
            &"/products".into(),
            &200.into()
        ),
        "{stdout:.2000}"
    );
    assert!(first["trace_id"].is_string() && first["request_id"].is_string());
}

/// `DEMO_ACCESS_LOG=off` sets `access_log(false)`: no access line.
#[test]
fn the_access_log_can_be_turned_off() {
    let demo = start_demo(&[("DEMO_ACCESS_LOG", "off")]);
    let base = demo.base.clone();
    runtime().block_on(async {
        let status = reqwest::get(format!("{base}/products"))
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200);
    });
    demo.signal("TERM");
    let (exit, lines, stdout) = demo.finish();
    assert!(exit.success(), "{exit}");
    assert!(
        !lines.iter().any(|l| l["target"] == "mvi::access"),
        "{stdout}"
    );
    assert_eq!(lines.last().unwrap()["msg"], "shutdown complete");
}
