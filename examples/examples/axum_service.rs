//! An axum service: traced handlers, an observed function, and the admin routes on the application's
//! own port. SIGTERM or Ctrl-C stops it gracefully: `/readyz` turns 503, requests in flight finish.
//!
//! ```sh
//! cargo run --example axum_service
//! curl -i http://127.0.0.1:3000/hello/ada
//! curl -s http://127.0.0.1:3000/metrics | grep -E '^(http_requests|function_calls)_total'
//! ```

use axum::{Router, extract::Path, http::StatusCode, routing::get};

/// A stand-in for the work behind the handler (a database, another service).
#[mvi::observe]
async fn greeting(name: &str) -> Result<String, String> {
    if name.chars().all(char::is_alphabetic) {
        Ok(format!("hello, {name}\n"))
    } else {
        Err(format!("{name:?} is not a name"))
    }
}

/// A server span continuing the caller's `traceparent`, RED metrics by route, and logs that carry
/// the request's `trace_id`, `span_id` and `request_id`.
#[mvi::traced_handler]
async fn hello(Path(name): Path<String>) -> Result<String, StatusCode> {
    tracing::info!(%name, "greeting");
    greeting(&name)
        .await
        .map_err(|_| StatusCode::UNPROCESSABLE_ENTITY)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let telemetry = mvi::Telemetry::builder()
        .service_version(env!("CARGO_PKG_VERSION")) // in mvi_build_info and build_info
        .without_admin_server() // the admin routes are merged into the application's router below
        .install()?;
    let app = Router::new()
        .route("/hello/{name}", get(hello))
        .merge(telemetry.admin_router());
    let addr = std::env::var("APP_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let addr = listener.local_addr()?;
    eprintln!("listening on http://{addr}: try /hello/ada, then /metrics /healthz /readyz /livez");
    let stopping = telemetry.stopping(); // resolves when shutdown says to stop accepting
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
