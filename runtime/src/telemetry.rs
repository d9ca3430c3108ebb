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
    #[cfg(feature = "otlp")]
    pub(crate) trace_export: Option<crate::otel::TraceExport>,
}

impl Telemetry {
    /// A builder with the defaults: admin endpoints on [`DEFAULT_ADMIN_ADDR`](crate::DEFAULT_ADMIN_ADDR)
    /// (or `MVI_ADMIN_ADDR`), JSON logs on stdout filtered by `RUST_LOG`, 1,000 label sets per metric.
    pub fn builder() -> TelemetryBuilder {
        TelemetryBuilder::default()
    }

    /// The address the admin server is bound to (with the real port when `:0` was asked for).
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin_addr
    }

    /// The service name.
    pub fn service_name(&self) -> &str {
        &self.service_name
    }

    /// The `/metrics` body as it would be served now, in the Prometheus text format.
    pub fn render(&self) -> String {
        self.admin.render(ExpositionFormat::PrometheusText)
    }

    /// The `/metrics` body as it would be served now in `format`: OpenMetrics shows exemplars.
    pub fn render_as(&self, format: ExpositionFormat) -> String {
        self.admin.render(format)
    }

    /// The health report as `/healthz` would answer now.
    pub async fn health(&self) -> HealthReport {
        self.admin.health.report().await
    }

    /// The admin routes (`/metrics`, `/livez`, `/healthz`, `/readyz`), to merge into the application's
    /// own router instead of serving a second port: `app.merge(telemetry.admin_router())`.
    pub fn admin_router(&self) -> Router {
        admin::router(self.admin.clone())
    }

    /// Resolves when the application should stop accepting connections: after
    /// [`shutdown`](Telemetry::shutdown) has turned `/readyz` to 503 and waited out the drain delay. Pass
    /// it to `axum::serve(..).with_graceful_shutdown(telemetry.stopping())`.
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
    ///    and the logs are flushed.
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
        tracing::info!(target: "mvi", "shutdown complete");
        logging::flush();
    }
}
