//! Measures the release demo the way an operator meets it: the size of the stripped binary, the time
//! from process start to the first `/healthz` 200, and `/healthz` throughput under `wrk`.
//!
//! ```sh
//! cargo build --release -p mvi-examples --bin demo --bin measure
//! target/release/measure            # or: target/release/measure path/to/demo
//! ```
//!
//! Startup is timed from just before `spawn` to the first complete `HTTP/1.1 200` answer, polling
//! the admin port every 100 µs over plain TCP; it is the median of 21 starts. The throughput line is
//! `wrk -t1 -c32 -d10s` (Debian package `wrk`), skipped with a note when `wrk` is not installed.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
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
    Ok(())
}
