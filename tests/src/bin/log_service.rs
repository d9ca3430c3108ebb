//! A small service for `tests/tests/log_pressure.rs`, run as a child process so that its stdout can be
//! a pipe the test reads as slowly as it likes.
//!
//! It serves on a free port of 127.0.0.1, with the admin routes on another, prints
//! `app http://... admin http://...` on stderr once both listen, and stops gracefully on SIGTERM. The
//! log budget comes from `MVI_LOG_RATE_LIMIT`, the filter from `RUST_LOG`. Its routes:
//!
//! | route | logs, besides the access line | answers |
//! |---|---|---|
//! | `/ok` | one DEBUG, one INFO | 200 |
//! | `/spam/{n}` | `n` INFO lines of 2 KB, then one WARN | 200 |
//! | `/missing` | nothing | 404 |
//! | `/fail` | nothing | 500 |
//!
//! `log_service --panic-after <n>` logs `n` INFO lines and panics in `main` instead, with the
//! `Telemetry` leaked (as a program that keeps it in a static would), so only the panic hook flushes.

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;

#[mvi::traced_handler]
async fn ok() -> &'static str {
    tracing::debug!("detail");
    tracing::info!("handled");
    "ok"
}

#[mvi::traced_handler]
async fn spam(Path(n): Path<u32>) -> &'static str {
    let padding = "x".repeat(2000);
    for line in 0..n {
        tracing::info!(line, padding, "spam");
    }
    tracing::warn!(lines = n, "spammed");
    "spammed"
}

#[mvi::traced_handler]
async fn missing() -> StatusCode {
    StatusCode::NOT_FOUND
}

#[mvi::traced_handler]
async fn fail() -> StatusCode {
    StatusCode::INTERNAL_SERVER_ERROR
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let telemetry = mvi::Telemetry::builder()
        .service_name("log_service")
        .admin_addr("127.0.0.1:0")
        .install()?;
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, n] = &args[..] {
        if flag == "--panic-after" {
            std::mem::forget(telemetry);
            for line in 0..n.parse::<u32>()? {
                tracing::info!(line, "before the panic");
            }
            panic!("the end");
        }
    }
    let app = Router::new()
        .route("/ok", get(ok))
        .route("/spam/{n}", get(spam))
        .route("/missing", get(missing))
        .route("/fail", get(fail));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let admin = telemetry.admin_addr().ok_or("no admin address")?;
    eprintln!("app http://{} admin http://{admin}", listener.local_addr()?);
    let stopping = telemetry.stopping();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(stopping)
            .await
    });
    mvi::shutdown_signal().await;
    telemetry.shutdown().await;
    server.await??;
    Ok(())
}
