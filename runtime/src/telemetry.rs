//! [`Telemetry`]: what `install` returns, and the ordered shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::sync::{oneshot, watch};

use crate::admin::{self, AdminState};
use crate::builder::TelemetryBuilder;
use crate::global;
use crate::health::HealthReport;
use crate::logging;
use crate::series::ExpositionFormat;

/// How long shutdown waits for the admin server to stop.
const TASK_STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// The installed telemetry: owns the admin server. Keep it alive for the life of the program and call
/// [`shutdown`](Telemetry::shutdown) on the way out.
///
/// # Examples
///
/// ```no_run
/// use axum::{Router, routing::get};
///
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let telemetry: mvi::Telemetry = mvi::Telemetry::builder().install()?;
/// let app = Router::new().route("/", get(|| async { "shop" }));
/// let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
/// let server = tokio::spawn(axum::serve(listener, app).with_graceful_shutdown(telemetry.stopping()).into_future());
/// mvi::shutdown_signal().await;
/// telemetry.shutdown().await; // /readyz 503, drain, stop accepting, requests in flight finish
/// server.await??;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
#[must_use = "dropping the `Telemetry` stops the admin server; keep it and call `shutdown().await` on the way out"]
pub struct Telemetry {
    pub(crate) admin: Arc<AdminState>,
    pub(crate) admin_addr: Option<SocketAddr>,
    pub(crate) service_name: String,
    /// Turns true when the application should stop accepting (after the drain delay).
    pub(crate) stopping: watch::Sender<bool>,
    /// Turns true when the admin server should stop.
    pub(crate) stop: watch::Sender<bool>,
    /// Complete when the admin server has stopped.
    pub(crate) tasks: Vec<oneshot::Receiver<()>>,
    pub(crate) shutdown_delay: Duration,
    pub(crate) shutdown_timeout: Duration,
    /// Writes the lines still queued when the `Telemetry` is dropped without `shutdown()`.
    pub(crate) _flush_logs: logging::FlushOnDrop,
    #[cfg(feature = "otlp")]
    pub(crate) trace_export: Option<crate::otel::TraceExport>,
}

impl Telemetry {
    /// A builder with the defaults: admin endpoints on [`DEFAULT_ADMIN_ADDR`](crate::DEFAULT_ADMIN_ADDR)
    /// (or `MVI_ADMIN_ADDR`), JSON logs on stdout filtered by `RUST_LOG`, 1,000 label sets per metric.
    ///
    /// # Examples
    ///
    /// ```standalone_crate
    /// let telemetry = mvi::Telemetry::builder()
    ///     .service_name("shop")
    ///     .without_admin_server()
    ///     .without_logs()
    ///     .install()
    ///     .unwrap();
    /// assert_eq!(telemetry.service_name(), "shop");
    /// ```
    pub fn builder() -> TelemetryBuilder {
        TelemetryBuilder::default()
    }

    /// The address the admin server is bound to (with the real port when `:0` was asked for).
    ///
    /// # Examples
    ///
    /// ```standalone_crate
    /// let telemetry = mvi::Telemetry::builder().admin_addr("127.0.0.1:0").without_logs().install().unwrap();
    /// let metrics_url = format!("http://{}/metrics", telemetry.admin_addr().unwrap());
    /// assert!(metrics_url.starts_with("http://127.0.0.1:"));
    /// ```
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin_addr
    }

    /// The service name.
    ///
    /// # Examples
    ///
    /// ```standalone_crate
    /// let telemetry = mvi::Telemetry::builder().without_admin_server().without_logs().install().unwrap();
    /// // `OTEL_SERVICE_NAME`, else the running binary's name.
    /// assert!(!telemetry.service_name().is_empty());
    /// ```
    pub fn service_name(&self) -> &str {
        &self.service_name
    }

    /// The `/metrics` body as it would be served now, in the Prometheus text format.
    ///
    /// # Examples
    ///
    /// ```standalone_crate
    /// #[mvi::observe]
    /// fn charge(cents: u64) -> Result<u64, String> {
    ///     if cents == 0 { Err("nothing to charge".into()) } else { Ok(cents) }
    /// }
    ///
    /// let telemetry = mvi::Telemetry::builder().without_admin_server().without_logs().install().unwrap();
    /// charge(100).unwrap();
    /// let scrape = telemetry.render();
    /// assert!(scrape.contains("# TYPE function_calls_total counter"));
    /// assert!(scrape.contains(r#"function_calls_total{function="charge",module="rust_out",result="ok"} 1"#));
    /// assert!(scrape.contains(r#"function_calls_total{function="charge",module="rust_out",result="error"} 0"#));
    /// ```
    pub fn render(&self) -> String {
        self.admin.render(ExpositionFormat::PrometheusText)
    }

    /// The `/metrics` body as it would be served now in `format`: OpenMetrics shows exemplars.
    ///
    /// # Examples
    ///
    /// ```standalone_crate
    /// let telemetry = mvi::Telemetry::builder().without_admin_server().without_logs().install().unwrap();
    /// let text = telemetry.render_as(mvi::ExpositionFormat::PrometheusText);
    /// let open = telemetry.render_as(mvi::ExpositionFormat::OpenMetrics);
    /// assert!(!text.contains("# EOF") && open.ends_with("# EOF\n"));
    /// ```
    pub fn render_as(&self, format: ExpositionFormat) -> String {
        self.admin.render(format)
    }

    /// The health report as `/healthz` would answer now.
    ///
    /// # Examples
    ///
    /// ```standalone_crate
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let telemetry = mvi::Telemetry::builder()
    ///     .without_admin_server()
    ///     .without_logs()
    ///     .readiness_check("cache", || async { Err::<(), _>("connection refused") })
    ///     .install()
    ///     .unwrap();
    /// let report = telemetry.health().await;
    /// assert!(!report.is_ok());
    /// assert_eq!(report.checks["cache"].error.as_deref(), Some("connection refused"));
    /// # }
    /// ```
    pub async fn health(&self) -> HealthReport {
        self.admin.health.report().await
    }

    /// Waits until every line logged before the call is written to the log output and flushed, at
    /// most 2 s; false if the output did not take them in time (a stuck consumer of stdout). Lines are
    /// written by a writer thread, so call this before reading a [`LogOutput::Writer`](crate::LogOutput)
    /// buffer in a test. [`shutdown`](Telemetry::shutdown) and dropping the `Telemetry` flush too.
    ///
    /// # Examples
    ///
    /// ```standalone_crate
    /// use std::sync::{Arc, Mutex};
    ///
    /// let logs = Arc::new(Mutex::new(Vec::<u8>::new()));
    /// let telemetry = mvi::Telemetry::builder()
    ///     .without_admin_server()
    ///     .log_output(mvi::LogOutput::Writer(logs.clone()))
    ///     .install()
    ///     .unwrap();
    /// tracing::info!("written by mvi's writer thread");
    /// assert!(telemetry.flush_logs()); // every line logged before this call is in `logs`
    /// assert!(String::from_utf8(logs.lock().unwrap().clone()).unwrap().contains("writer thread"));
    /// ```
    pub fn flush_logs(&self) -> bool {
        logging::flush(logging::FLUSH_TIMEOUT)
    }

    /// The admin routes (`/metrics`, `/livez`, `/healthz`, `/readyz`), to merge into the application's
    /// own router instead of serving a second port: `app.merge(telemetry.admin_router())`.
    ///
    /// # Examples
    ///
    /// ```standalone_crate
    /// use tower::ServiceExt as _;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let telemetry = mvi::Telemetry::builder().without_admin_server().without_logs().install().unwrap();
    /// let app = axum::Router::new().merge(telemetry.admin_router());
    /// let request = http::Request::get("/livez").body(axum::body::Body::empty()).unwrap();
    /// let response = app.oneshot(request).await.unwrap();
    /// assert_eq!(response.status(), 200);
    /// # }
    /// ```
    pub fn admin_router(&self) -> Router {
        admin::router(self.admin.clone())
    }

    /// Resolves when the application should stop accepting connections: after
    /// [`shutdown`](Telemetry::shutdown) has turned `/readyz` to 503 and waited out the drain delay. Pass
    /// it to `axum::serve(..).with_graceful_shutdown(telemetry.stopping())`.
    ///
    /// # Examples
    ///
    /// ```standalone_crate
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let telemetry = mvi::Telemetry::builder().without_admin_server().without_logs().install().unwrap();
    /// let stopping = telemetry.stopping();
    /// let server = tokio::spawn(async move {
    ///     stopping.await; // what `with_graceful_shutdown` waits for
    ///     "stopped accepting"
    /// });
    /// telemetry.shutdown().await;
    /// assert_eq!(server.await.unwrap(), "stopped accepting");
    /// # }
    /// ```
    pub fn stopping(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.stopping.subscribe();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    }

    /// Shuts down in the order Kubernetes expects, every wait bounded:
    ///
    /// 1. `/readyz` answers 503 (`/livez` stays 200), and the application keeps serving for the drain
    ///    delay ([`shutdown_delay`](TelemetryBuilder::shutdown_delay), `MVI_SHUTDOWN_DELAY`), so endpoint
    ///    controllers take the pod out of rotation first;
    /// 2. [`stopping`](Telemetry::stopping) resolves, so the application stops accepting;
    /// 3. requests in flight in `#[traced_handler]`s finish (at most the shutdown timeout, 30 s by default);
    /// 4. the admin server stops, spans are flushed (feature `otlp`), `shutdown complete` is logged last
    ///    and every queued log line is written (at most 2 s).
    ///
    /// # Examples
    ///
    /// ```standalone_crate
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let telemetry = mvi::Telemetry::builder().admin_addr("127.0.0.1:0").without_logs().install().unwrap();
    /// let admin = telemetry.admin_addr().unwrap();
    /// telemetry.shutdown().await;
    /// assert!(tokio::net::TcpStream::connect(admin).await.is_err()); // the admin server has stopped
    /// # }
    /// ```
    pub async fn shutdown(self) {
        self.admin.health.begin_shutdown();
        tracing::info!(
            target: "mvi",
            drain_delay_ms = self.shutdown_delay.as_millis() as u64,
            "shutting down: /readyz answers 503; serving on for the drain delay"
        );
        tokio::time::sleep(self.shutdown_delay).await;
        let _ = self.stopping.send(true);
        if tokio::time::timeout(self.shutdown_timeout, global::drained())
            .await
            .is_err()
        {
            tracing::warn!(
                target: "mvi",
                in_flight = global::requests_in_flight(),
                timeout_ms = self.shutdown_timeout.as_millis() as u64,
                "requests still in flight when the shutdown timeout ran out; stopping without them"
            );
        }
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = tokio::time::timeout(TASK_STOP_TIMEOUT, task).await;
        }
        #[cfg(feature = "otlp")]
        if let Some(export) = self.trace_export {
            export.shutdown().await;
        }
        logging::last_report();
        tracing::info!(target: "mvi", "shutdown complete");
        let flushed = tokio::task::spawn_blocking(|| logging::flush(logging::FLUSH_TIMEOUT));
        let _ = flushed.await;
    }
}
