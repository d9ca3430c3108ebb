//! Helpers shared by the end-to-end tests: real HTTP, the real `promtool`, the official Python
//! OpenMetrics parser; and what a test does when a tool it needs is missing.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Serves `router` on a free port of 127.0.0.1 for the rest of the test; returns its base URL.
pub async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let base = format!("http://{}", listener.local_addr().expect("local address"));
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
    base
}

/// A downstream service as service A's code sees it: B's base URL, and a reqwest client through
/// mvi's middleware.
#[derive(Clone, Debug)]
pub struct Downstream {
    /// The client, with `mvi::client::Middleware`.
    pub client: reqwest_middleware::ClientWithMiddleware,
    /// B's base URL.
    pub base: String,
}

impl Downstream {
    /// `client` with mvi's middleware, calling `base`.
    pub fn new(client: reqwest::Client, base: String) -> Downstream {
        Downstream {
            client: reqwest_middleware::ClientBuilder::new(client)
                .with(mvi::client::Middleware::new())
                .build(),
            base,
        }
    }
}

impl Downstream {
    /// `POST {base}/charge` through the middleware; B's answer. (Not `#[observe]`d here: a
    /// declaration in this library would be in every test program's catalog.)
    pub async fn charge(&self) -> Result<String, reqwest_middleware::Error> {
        let response = self
            .client
            .post(format!("{}/charge", self.base))
            .send()
            .await?;
        Ok(response.text().await?)
    }
}

/// GETs a URL over real HTTP; returns status, content type and body.
pub async fn get(url: &str) -> (u16, String, String) {
    let response = reqwest::get(url)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or_default().to_string())
        .unwrap_or_default();
    (
        status,
        content_type,
        response.text().await.unwrap_or_default(),
    )
}

/// Runs `promtool check metrics` on an exposition; returns what promtool printed (empty when it has no
/// finding). `None` when promtool cannot run (see [`promtool`]).
pub fn promtool_check(exposition: &str) -> Option<String> {
    let (ok, findings) = promtool(&["check", "metrics"], Some(exposition))?;
    assert!(ok || !findings.is_empty(), "promtool failed without output");
    Some(findings)
}

/// Runs the real `promtool` with `args`, writing `stdin` to it; returns whether it succeeded and what it
/// printed. When promtool cannot run: with `CI` set (to anything) that is a failure; otherwise the
/// reason is written where `cargo test` shows it and the caller skips its check (`None`).
pub fn promtool(args: &[&str], stdin: Option<&str>) -> Option<(bool, String)> {
    match run("promtool", args, stdin) {
        Ok(out) => Some((
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )),
        Err(e) => {
            unavailable(
                &format!("`promtool {}`", args.join(" ")),
                &format!("cannot run `promtool` ({e})"),
                PROMETHEUS_INSTALL,
            );
            None
        }
    }
}

/// Runs `program` with `args`, writing `stdin` to it, and waits for it.
fn run(program: &str, args: &[&str], stdin: Option<&str>) -> std::io::Result<Output> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())?;
    }
    child.wait_with_output()
}

/// How to install `promtool` and the `prometheus` server.
pub const PROMETHEUS_INSTALL: &str = "install Debian's `prometheus` package";

/// How to install the official Python OpenMetrics parser.
pub const PYTHON_PARSER_INSTALL: &str =
    "install the Python package `prometheus-client` (`python3 -m pip install prometheus-client`)";

/// A tool `check` needs cannot run (`why`): with `CI` set (to anything) that is a failure; otherwise the
/// check is skipped and says so (see [`skip`]).
pub fn unavailable(check: &str, why: &str, install: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{check} is required when `CI` is set: {why}; {install}");
    }
    skip(&format!(
        "{check}: {why}; {install}, or set `CI` to make this a failure"
    ));
}

/// Parses an OpenMetrics exposition with the official Python parser
/// (`prometheus_client.openmetrics.parser`) and returns what it read, as JSON: one object per family
/// (`name`, `type`, `unit`, `help`) with its `samples` (`name`, `labels`, `value`, and `exemplar`:
/// `labels`, `value`, `timestamp`, or null; infinities and NaN as the strings `inf`, `-inf`, `nan`).
/// Panics with the parser's message when it rejects the text. `None` when Python or the parser cannot
/// run (see [`unavailable`]).
pub fn openmetrics_parse(exposition: &str) -> Option<serde_json::Value> {
    const SCRIPT: &str = r#"
import json, math, sys
try:
    from prometheus_client.openmetrics.parser import text_string_to_metric_families
except ImportError as e:
    print(e, file=sys.stderr)
    sys.exit(3)
def number(v):
    v = float(v)
    return v if math.isfinite(v) else str(v)
families = []
for f in text_string_to_metric_families(sys.stdin.read()):
    samples = []
    for s in f.samples:
        e = s.exemplar
        samples.append({
            "name": s.name, "labels": s.labels, "value": number(s.value),
            "exemplar": None if e is None else {
                "labels": e.labels, "value": number(e.value),
                "timestamp": None if e.timestamp is None else number(e.timestamp),
            },
        })
    families.append({"name": f.name, "type": f.type, "unit": f.unit, "help": f.documentation, "samples": samples})
print(json.dumps(families))
"#;
    const CHECK: &str = "the OpenMetrics parser check";
    let out = match run("python3", &["-c", SCRIPT], Some(exposition)) {
        Ok(out) => out,
        Err(e) => {
            unavailable(
                CHECK,
                &format!("cannot run `python3` ({e})"),
                PYTHON_PARSER_INSTALL,
            );
            return None;
        }
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(3) {
        let why = format!("python3 cannot import the parser ({})", stderr.trim());
        unavailable(CHECK, &why, PYTHON_PARSER_INSTALL);
        return None;
    }
    assert!(
        out.status.success(),
        "the official OpenMetrics parser rejects the exposition:\n{stderr}\n--- exposition ---\n{exposition}"
    );
    Some(serde_json::from_slice(&out.stdout).expect("the parser's summary is JSON"))
}

/// Says why a check is skipped, on the process' stderr: libtest captures `eprintln!` of a passing test,
/// but not writes to the stderr handle, so the reason shows in `cargo test` output.
pub fn skip(reason: &str) {
    let _ = writeln!(std::io::stderr(), "skipping {reason}");
}

/// The value of the one sample line that starts with `series` (name and labels exactly as rendered).
pub fn sample(exposition: &str, series: &str) -> Option<f64> {
    exposition.lines().find_map(|line| {
        let rest = line.strip_prefix(series)?;
        rest.strip_prefix(' ')?.trim().parse().ok()
    })
}

/// What `install()` says of a catalog with `conflicts` conflicts: it must refuse with
/// [`mvi::Error::CatalogConflict`], one line per conflict.
pub fn install_refused_for_conflicts(conflicts: usize) -> String {
    let found = mvi::catalog().conflicts();
    assert_eq!(found.len(), conflicts, "{found:#?}");
    let err = mvi::Telemetry::builder()
        .without_admin_server()
        .install()
        .expect_err("install must refuse a catalog with conflicts");
    assert!(matches!(err, mvi::Error::CatalogConflict { .. }), "{err}");
    let text = err.to_string();
    assert_eq!(text.lines().count(), conflicts, "{text}");
    text
}

/// Counting allocations, for the tests that prove a call allocates nothing. A test binary makes it its
/// allocator with `#[global_allocator] static GLOBAL: mvi_tests::alloc::Counting = mvi_tests::alloc::Counting;`.
pub mod alloc {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// The system allocator, counting the allocations of the thread inside [`allocations_during`].
    #[derive(Debug)]
    pub struct Counting;

    static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

    thread_local! {
        /// Only allocations made on the measuring thread count; the harness has threads of its own.
        static COUNTING: Cell<bool> = const { Cell::new(false) };
    }

    // SAFETY: every call is forwarded unchanged to the system allocator.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            if COUNTING.try_with(Cell::get).unwrap_or(false) {
                ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
            }
            // SAFETY: forwarded unchanged to the system allocator.
            unsafe { System.alloc(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: `ptr` came from `System.alloc` with this layout.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    /// How many allocations `f` made on this thread (with [`Counting`] as the global allocator).
    pub fn allocations_during(f: impl FnOnce()) -> u64 {
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        COUNTING.with(|c| c.set(true));
        f();
        COUNTING.with(|c| c.set(false));
        ALLOCATIONS.load(Ordering::Relaxed) - before
    }
}

/// A real Prometheus server (Debian's `prometheus`, exemplar storage on) on a free port of 127.0.0.1,
/// scraping one target every second; killed, and its data removed, when dropped (also when the test
/// panics).
pub mod prometheus {
    use std::future::Future;
    use std::path::PathBuf;
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    use serde_json::Value;

    use crate::{PROMETHEUS_INSTALL, unavailable};

    /// The longest any one wait of [`eventually`] may take.
    pub const PATIENCE: Duration = Duration::from_secs(60);

    /// The server; see the module.
    #[derive(Debug)]
    pub struct Server {
        child: Child,
        dir: PathBuf,
        base: String,
    }

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    impl Server {
        /// Starts `prometheus` scraping `target` (`host:port`, job `mvi-test`) every second, with the
        /// rule files `rules` (name and content) and the external label `runbook_base_url` of
        /// `deploy/`; `None` when it is not installed outside CI (see [`unavailable`]).
        pub fn start(target: &str, rules: &[(&str, &str)]) -> Option<Server> {
            if let Err(e) = Command::new("prometheus").arg("--version").output() {
                unavailable(
                    "the Prometheus server test",
                    &format!("cannot run `prometheus` ({e})"),
                    PROMETHEUS_INSTALL,
                );
                return None;
            }
            let dir = std::env::temp_dir().join(format!(
                "mvi-prometheus-{}-{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos()
            ));
            std::fs::create_dir_all(dir.join("data")).unwrap();
            let mut rule_files = String::new();
            for (name, content) in rules {
                std::fs::write(dir.join(name), content).unwrap();
                rule_files.push_str(&format!("  - {}\n", dir.join(name).display()));
            }
            let config = format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n  external_labels:\n    runbook_base_url: deploy/runbooks\n\
                 rule_files:\n{rule_files}\
                 scrape_configs:\n  - job_name: mvi-test\n    static_configs:\n      - targets: [\"{target}\"]\n",
            );
            std::fs::write(dir.join("prometheus.yml"), config).unwrap();
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let child = Command::new("prometheus")
                .arg(format!(
                    "--config.file={}",
                    dir.join("prometheus.yml").display()
                ))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    dir.join("data").display()
                ))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .arg("--enable-feature=exemplar-storage")
                .arg("--log.level=warn")
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(dir.join("prometheus.log")).unwrap())
                .spawn()
                .expect("prometheus starts");
            Some(Server {
                child,
                dir,
                base: format!("http://127.0.0.1:{port}"),
            })
        }

        /// GETs `path` of the HTTP API (`/api/v1/...`); `None` until the server answers with JSON.
        pub async fn api(&self, path: &str) -> Option<Value> {
            let response = reqwest::get(format!("{}{path}", self.base)).await.ok()?;
            serde_json::from_str(&response.text().await.ok()?).ok()
        }

        /// The result of the instant query `promql` at `time` (Unix seconds): its `data.result`.
        /// Panics when Prometheus reports an error.
        pub async fn query(&self, promql: &str, time: f64) -> Vec<Value> {
            let encoded: String = promql
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        char::from(b).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            let answer = self
                .api(&format!("/api/v1/query?query={encoded}&time={time}"))
                .await
                .unwrap_or_else(|| panic!("no answer to {promql}"));
            assert_eq!(answer["status"], "success", "{promql}: {answer}");
            answer["data"]["result"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        }

        /// What the server logged (at `warn` and above).
        pub fn log(&self) -> String {
            std::fs::read_to_string(self.dir.join("prometheus.log")).unwrap_or_default()
        }

        /// Resolves once the target is scraped and up.
        pub async fn target_up(&self) {
            eventually("the target is up", || async {
                let targets = self.api("/api/v1/targets").await.ok_or("no answer")?;
                let target = &targets["data"]["activeTargets"][0];
                match target["health"].as_str() {
                    Some("up") => Ok(()),
                    _ => Err(format!("{target}\n{}", self.log())),
                }
            })
            .await;
        }
    }

    /// Polls `check` until it gives a value, every 250 ms for at most [`PATIENCE`]; on timeout, panics
    /// with `what` and the last state `check` reported.
    pub async fn eventually<T, F: Future<Output = Result<T, String>>>(
        what: &str,
        mut check: impl FnMut() -> F,
    ) -> T {
        let deadline = Instant::now() + PATIENCE;
        loop {
            match check().await {
                Ok(value) => return value,
                Err(state) if Instant::now() > deadline => {
                    panic!("{what}: not within {PATIENCE:?}; last seen: {state}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
            }
        }
    }
}
