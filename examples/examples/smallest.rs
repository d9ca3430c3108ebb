//! The smallest program: one observed function, `install()`, and `/metrics` to scrape.
//!
//! ```sh
//! cargo run --example smallest
//! curl -s http://127.0.0.1:9464/metrics | grep function_calls_total
//! ```

/// Counted by result (`function_calls_total`) and timed (`function_calls_duration_seconds`).
#[mvi::observe]
fn roll(seed: u64) -> Result<u64, String> {
    match seed % 6 {
        0 => Err(format!("seed {seed} rolled off the table")),
        face => Ok(face),
    }
}

#[tokio::main]
async fn main() -> Result<(), mvi::Error> {
    // The admin routes (/metrics, /healthz, /readyz, /livez) listen on `MVI_ADMIN_ADDR`, else on every
    // interface at port 9464; JSON logs go to stdout.
    let telemetry = mvi::Telemetry::builder().install()?;
    for seed in 1..=12 {
        let _ = roll(seed);
    }
    let admin = telemetry.admin_addr().expect("the admin server is on");
    eprintln!("12 rolls done; scrape http://{admin}/metrics (Ctrl-C or SIGTERM stops)");
    mvi::shutdown_signal().await;
    telemetry.shutdown().await;
    Ok(())
}
