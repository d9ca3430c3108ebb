//! The admin routes (`/metrics`, `/livez`, `/healthz`, `/readyz`) and the server that serves them on a
//! port of their own.

use std::net::TcpListener as StdListener;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::watch;

use crate::health::{Health, HealthReport};
use crate::series::Store;

/// The `Content-Type` of `/metrics`: the Prometheus text format, version 0.0.4.
pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What the admin routes read.
#[derive(Debug)]
pub(crate) struct AdminState {
    pub(crate) store: Arc<Store>,
    pub(crate) health: Health,
    pub(crate) process: metrics_process::Collector,
    /// The Tokio runtime `install` ran on, whose metrics `/metrics` reports.
    pub(crate) tokio: Option<tokio::runtime::Handle>,
}

impl AdminState {
    /// The exposition, with the process and Tokio metrics read now.
    pub(crate) fn render(&self) -> String {
        self.process.collect();
        if let Some(handle) = &self.tokio {
            let m = handle.metrics();
            metrics::gauge!("tokio_workers").set(m.num_workers() as f64);
            metrics::gauge!("tokio_alive_tasks").set(m.num_alive_tasks() as f64);
            metrics::gauge!("tokio_global_queue_depth").set(m.global_queue_depth() as f64);
            let workers = 0..m.num_workers();
            let busy: Duration = workers
                .clone()
                .map(|w| m.worker_total_busy_duration(w))
                .sum();
            let parks: u64 = workers.map(|w| m.worker_park_count(w)).sum();
            metrics::counter!("tokio_worker_busy_seconds_total").absolute(busy.as_secs());
            metrics::counter!("tokio_worker_parks_total").absolute(parks);
        }
        self.store.render()
    }
}

/// HELP for the process-wide metrics `/metrics` reports besides the catalog's.
pub(crate) fn describe() {
    metrics::describe_gauge!(
        "tokio_workers",
        "Worker threads of the Tokio runtime mvi was installed on."
    );
    metrics::describe_gauge!(
        "tokio_alive_tasks",
        "Tasks alive on the Tokio runtime (spawned and not finished)."
    );
    metrics::describe_gauge!(
        "tokio_global_queue_depth",
        "Tasks waiting in the Tokio runtime's global queue."
    );
    metrics::describe_counter!(
        "tokio_worker_busy_seconds_total",
        "Time the Tokio runtime's workers spent running tasks, summed over workers, in whole seconds."
    );
    metrics::describe_counter!(
        "tokio_worker_parks_total",
        "Times the Tokio runtime's workers parked (went idle), summed over workers."
    );
}

/// The admin routes.
pub(crate) fn router(state: Arc<AdminState>) -> Router {
    Router::new()
        .route("/metrics", get(metrics_response))
        .route(
            "/livez",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                    "ok\n",
                )
            }),
        )
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(state)
}

async fn metrics_response(State(state): State<Arc<AdminState>>) -> Response {
    // Rendering walks every series: keep it off the async workers.
    let body = tokio::task::spawn_blocking(move || state.render())
        .await
        .unwrap_or_default();
    ([(header::CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE)], body).into_response()
}

fn health_response(report: &HealthReport) -> Response {
    let status = if report.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::to_string(report).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn healthz(State(state): State<Arc<AdminState>>) -> Response {
    health_response(&state.health.report().await)
}

async fn readyz(State(state): State<Arc<AdminState>>) -> Response {
    if state.health.is_shutting_down() {
        let report = HealthReport {
            status: "fail",
            checks: Default::default(),
        };
        return health_response(&report);
    }
    health_response(&state.health.report().await)
}

/// Serves the admin routes on `listener` until `stopped` turns true.
pub(crate) async fn serve(
    listener: StdListener,
    router: Router,
    mut stopped: watch::Receiver<bool>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    let router = router.fallback(|| async {
        (
            StatusCode::NOT_FOUND,
            "not found; try /metrics, /livez, /healthz or /readyz\n",
        )
    });
    let _ = axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            let _ = stopped.wait_for(|s| *s).await;
        })
        .await;
}
