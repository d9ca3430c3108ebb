//! Measures the release demo the way an operator meets it: the size of the stripped binary, the time
//! from process start to the first `/healthz` 200, `/healthz` throughput under `wrk`, the shop's own
//! throughput with the access log off and on, and the log lines a second under `MVI_LOG_RATE_LIMIT=200`.
//!
//! ```sh
//! cargo build --release -p mvi-examples --bin demo --bin measure
//! target/release/measure            # or: target/release/measure path/to/demo
//! ```
//!
//! Startup is timed from just before `spawn` to the first complete `HTTP/1.1 200` answer, polling
//! the admin port every 100 µs over plain TCP; it is the median of 21 starts. The throughput lines are
//! `wrk -t1 -c32 -d10s` (Debian package `wrk`), skipped with a note when `wrk` is not installed.
//!
//! The access log runs are `wrk` against `GET /products` (an observed SQLite query) with the demo's
//! stdout a pipe that a thread of this program reads and counts, as a log shipper would: with
//! `DEMO_ACCESS_LOG=off`; with the access log and the default budget (1,000 lines a second); with
//! `MVI_LOG_RATE_LIMIT=0` (every line written); and with `MVI_LOG_RATE_LIMIT=200`, where it prints the
//! INFO lines written in each whole second (by the lines' own `time`) and how far
//! `mvi_log_events_sampled_out_total{level="info",reason="budget"}` rose.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const STARTS: usize = 21;

fn free_addr() -> std::io::Result<SocketAddr> {
    TcpListener::bind("127.0.0.1:0")?.local_addr()
}

/// One `GET /healthz`; true on a 200.
fn healthz_ok(admin: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect(admin) else {
        return false;
    };
    let request = "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    response.starts_with(b"HTTP/1.1 200")
}

fn start(demo: &PathBuf, admin: SocketAddr, app: SocketAddr) -> std::io::Result<Child> {
    Command::new(demo)
        .env("MVI_ADMIN_ADDR", admin.to_string())
        .env("DEMO_ADDR", app.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
}

/// INFO log lines by the second of their `time` (`2026-11-26T05:30:49`), and all lines.
#[derive(Default)]
struct LogCount {
    info_per_second: BTreeMap<String, usize>,
    lines: usize,
}

/// A demo whose stdout a thread reads and counts.
struct Logging {
    child: Child,
    admin: SocketAddr,
    app: SocketAddr,
    reader: JoinHandle<LogCount>,
}

/// Starts the demo with `env`, its stdout read and counted by a thread; waits for `/healthz` and for
/// the application's port (bound after the admin port).
fn start_logging(
    demo: &PathBuf,
    env: &[(&str, &str)],
) -> Result<Logging, Box<dyn std::error::Error>> {
    let (admin, app) = (free_addr()?, free_addr()?);
    let mut child = Command::new(demo)
        .env("MVI_ADMIN_ADDR", admin.to_string())
        .env("DEMO_ADDR", app.to_string())
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let reader = std::thread::spawn(move || {
        let mut count = LogCount::default();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            count.lines += 1;
            if line.contains(r#""level":"INFO""#) {
                let second = line.get(9..28).unwrap_or_default().to_string();
                *count.info_per_second.entry(second).or_default() += 1;
            }
        }
        count
    });
    while !healthz_ok(admin) || TcpStream::connect(app).is_err() {
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(Logging {
        child,
        admin,
        app,
        reader,
    })
}

/// `wrk -t1 -c32 -d10s --latency url`: its requests a second and p99, or why not.
fn wrk(url: &str) -> Result<(f64, String), String> {
    let out = Command::new("wrk")
        .args(["-t1", "-c32", "-d10s", "--latency", url])
        .output()
        .map_err(|e| format!("`wrk` not runnable ({e}); apt-get install wrk"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix).map(|r| r.trim().to_string()))
    };
    let rps = field("Requests/sec:")
        .and_then(|r| r.parse().ok())
        .ok_or_else(|| {
            let errors = String::from_utf8_lossy(&out.stderr);
            format!("no Requests/sec in wrk's output:\n{text}{errors}")
        })?;
    Ok((rps, field("99%").unwrap_or_default()))
}

/// `GET /metrics` over plain TCP: the value of one sample line.
fn scrape(admin: SocketAddr, series: &str) -> Option<f64> {
    let mut stream = TcpStream::connect(admin).ok()?;
    let request = "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response
        .lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
}

impl Logging {
    /// Stops the demo gracefully (SIGTERM) and returns what its reader counted.
    fn stop(mut self) -> Result<LogCount, Box<dyn std::error::Error>> {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()?;
        self.child.wait()?;
        self.reader
            .join()
            .map_err(|_| "the stdout reader panicked".into())
    }
}

/// The shop's throughput with the access log off, on, and on without a budget; then the lines a
/// second under a budget of 200.
fn access_log_runs(demo: &PathBuf) -> Result<(), Box<dyn std::error::Error>> {
    let runs = [
        ("access log off", vec![("DEMO_ACCESS_LOG", "off")]),
        ("access log on, default budget (1,000 lines/s)", vec![]),
        (
            "access log on, no budget (MVI_LOG_RATE_LIMIT=0)",
            vec![("MVI_LOG_RATE_LIMIT", "0")],
        ),
    ];
    for (name, env) in runs {
        let demo = start_logging(demo, &env)?;
        let result = wrk(&format!("http://{}/products", demo.app));
        let count = demo.stop()?;
        match result {
            Ok((rps, p99)) => println!(
                "wrk /products, {name}: {rps:.0} requests/s (p99 {p99}), {} log lines ({:.0} a second)",
                count.lines,
                count.lines as f64 / 10.0
            ),
            Err(why) => println!("wrk /products, {name}: skipped, {why}"),
        }
    }

    let demo = start_logging(demo, &[("MVI_LOG_RATE_LIMIT", "200")])?;
    let series = r#"mvi_log_events_sampled_out_total{level="info",reason="budget"}"#;
    let before = scrape(demo.admin, series).unwrap_or(f64::NAN);
    let result = wrk(&format!("http://{}/products", demo.app));
    let after = scrape(demo.admin, series).unwrap_or(f64::NAN);
    let count = demo.stop()?;
    let (rps, _) = match result {
        Ok(r) => r,
        Err(why) => {
            println!("MVI_LOG_RATE_LIMIT=200: skipped, {why}");
            return Ok(());
        }
    };
    // Whole seconds of load: drop the first and last second that have lines.
    let seconds: Vec<usize> = count.info_per_second.values().copied().collect();
    let whole = seconds
        .get(1..seconds.len().saturating_sub(1))
        .unwrap_or_default();
    println!(
        "MVI_LOG_RATE_LIMIT=200, {rps:.0} requests/s: INFO lines in each whole second {whole:?}; {series} {before} -> {after}"
    );
    Ok(())
}

/// Milliseconds from spawn to the first `/healthz` 200.
fn time_to_healthy(demo: &PathBuf) -> Result<f64, Box<dyn std::error::Error>> {
    let (admin, app) = (free_addr()?, free_addr()?);
    let started = Instant::now();
    let mut child = start(demo, admin, app)?;
    let result = loop {
        if healthz_ok(admin) {
            break Ok(started.elapsed().as_secs_f64() * 1e3);
        }
        if let Some(status) = child.try_wait()? {
            break Err(format!("the demo exited with {status} before answering").into());
        }
        if started.elapsed() > Duration::from_secs(10) {
            break Err("no /healthz 200 within 10 s".into());
        }
        std::thread::sleep(Duration::from_micros(100));
    };
    child.kill()?;
    child.wait()?;
    result
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let demo = match std::env::args().nth(1) {
        Some(path) => PathBuf::from(path),
        None => std::env::current_exe()?.with_file_name("demo"),
    };
    let size = std::fs::metadata(&demo)
        .map_err(|e| {
            format!(
                "{}: {e}; build it with `cargo build --release -p mvi-examples --bin demo`",
                demo.display()
            )
        })?
        .len();
    println!(
        "binary: {} ({:.2} MB, {size} bytes)",
        demo.display(),
        size as f64 / 1e6
    );

    let mut times = (0..STARTS)
        .map(|_| time_to_healthy(&demo))
        .collect::<Result<Vec<_>, _>>()?;
    times.sort_by(f64::total_cmp);
    println!(
        "start to first /healthz 200: median {:.1} ms, min {:.1} ms, max {:.1} ms ({STARTS} starts)",
        times[STARTS / 2],
        times[0],
        times[STARTS - 1]
    );

    let (admin, app) = (free_addr()?, free_addr()?);
    let mut child = start(&demo, admin, app)?;
    while !healthz_ok(admin) {
        std::thread::sleep(Duration::from_millis(1));
    }
    let wrk = Command::new("wrk")
        .args(["-t1", "-c32", "-d10s", "--latency"])
        .arg(format!("http://{admin}/healthz"))
        .output();
    child.kill()?;
    child.wait()?;
    match wrk {
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stdout);
            for line in text.lines().filter(|l| {
                l.contains("Requests/sec") || l.contains("Latency") || l.contains("99%")
            }) {
                println!("wrk /healthz: {}", line.trim());
            }
        }
        Err(e) => println!("wrk /healthz: skipped, `wrk` not runnable ({e}); apt-get install wrk"),
    }
    access_log_runs(&demo)
}
