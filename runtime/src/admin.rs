//! The admin routes (`/metrics`, `/livez`, `/healthz`, `/readyz`) and the server that serves them on a
//! port of their own.

use std::io::Write as _;
use std::net::TcpListener as StdListener;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::watch;

use crate::health::{Health, HealthReport};
use crate::series::{ExpositionFormat, Store};

/// The `Content-Type` of `/metrics` in the Prometheus text format, version 0.0.4 (the default).
///
/// # Examples
///
/// ```
/// assert_eq!(mvi::PROMETHEUS_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
/// ```
pub const PROMETHEUS_CONTENT_TYPE: &str = ExpositionFormat::PrometheusText.content_type();
/// The `Content-Type` of `/metrics` in OpenMetrics 1.0 text, when `Accept` asks for it.
///
/// # Examples
///
/// ```
/// assert_eq!(
///     mvi::OPENMETRICS_CONTENT_TYPE,
///     "application/openmetrics-text; version=1.0.0; charset=utf-8"
/// );
/// ```
pub const OPENMETRICS_CONTENT_TYPE: &str = ExpositionFormat::OpenMetrics.content_type();

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
    /// The exposition in `format`, with the process and Tokio metrics read now.
    pub(crate) fn render(&self, format: ExpositionFormat) -> String {
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
        self.store.render(format)
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

async fn metrics_response(State(state): State<Arc<AdminState>>, headers: HeaderMap) -> Response {
    let format = negotiate_format(&headers);
    let gzip = accepts_gzip(&headers);
    // Rendering walks every series, and compressing reads it all again: keep both off the async workers.
    let (body, gzipped) = tokio::task::spawn_blocking(move || {
        let text = state.render(format);
        match gzip.then(|| compress(&text)).and_then(Result::ok) {
            Some(compressed) => (compressed, true),
            None => (text.into_bytes(), false),
        }
    })
    .await
    .unwrap_or_default();
    let mut response = (
        [
            (header::CONTENT_TYPE, format.content_type()),
            (header::VARY, "accept, accept-encoding"),
        ],
        body,
    )
        .into_response();
    if gzipped {
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}

/// OpenMetrics when `Accept` names `application/openmetrics-text` with a weight at least that of the
/// text format (as Prometheus sends: OpenMetrics first, `text/plain;version=0.0.4;q=0.5`); otherwise,
/// wildcards included, the Prometheus text format.
fn negotiate_format(headers: &HeaderMap) -> ExpositionFormat {
    let (mut openmetrics, mut text) = (0.0f32, 0.0f32);
    for (media_type, q) in weighted(headers, header::ACCEPT) {
        match media_type.as_str() {
            "application/openmetrics-text" => openmetrics = openmetrics.max(q),
            "text/plain" | "text/*" | "*/*" => text = text.max(q),
            _ => {}
        }
    }
    if openmetrics > 0.0 && openmetrics >= text {
        ExpositionFormat::OpenMetrics
    } else {
        ExpositionFormat::PrometheusText
    }
}

/// Whether `Accept-Encoding` allows gzip: named with a weight above 0, or `*` when gzip is not named.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let (mut gzip, mut any) = (None, None);
    for (coding, q) in weighted(headers, header::ACCEPT_ENCODING) {
        match coding.as_str() {
            "gzip" | "x-gzip" => gzip = Some(q),
            "*" => any = Some(q),
            _ => {}
        }
    }
    gzip.or(any).is_some_and(|q| q > 0.0)
}

/// The elements of a comma-separated header, lower-cased, each with its weight (`q`, 1 when absent).
fn weighted(headers: &HeaderMap, name: header::HeaderName) -> Vec<(String, f32)> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|element| {
            let mut parts = element.split(';').map(str::trim);
            let token = parts.next().filter(|t| !t.is_empty())?.to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
                .map_or(Some(1.0), |(_, v)| v.trim().parse::<f32>().ok())?;
            Some((token, q))
        })
        .collect()
}

/// The exposition, gzip-compressed (`flate2`, fastest level: a scrape is compressed every few seconds
/// and read once).
fn compress(text: &str) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(text.len() / 8),
        flate2::Compression::fast(),
    );
    encoder.write_all(text.as_bytes())?;
    encoder.finish()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), HeaderValue::from_static(v)))
            .collect()
    }

    #[test]
    fn openmetrics_only_when_asked_for_at_least_as_much_as_text() {
        let format = |accept: &'static str| negotiate_format(&headers(&[(header::ACCEPT, accept)]));
        use ExpositionFormat::{OpenMetrics, PrometheusText};
        // What Prometheus 2.42 sends.
        assert_eq!(
            format(
                "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
            ),
            OpenMetrics
        );
        assert_eq!(
            format("application/openmetrics-text; version=1.0.0"),
            OpenMetrics
        );
        assert_eq!(format("Application/OpenMetrics-Text"), OpenMetrics);
        assert_eq!(format("text/plain;version=0.0.4"), PrometheusText);
        assert_eq!(format("*/*"), PrometheusText);
        assert_eq!(format("text/html,*/*;q=0.8"), PrometheusText);
        assert_eq!(
            format("text/plain,application/openmetrics-text;q=0.5"),
            PrometheusText
        );
        assert_eq!(format("application/openmetrics-text;q=0"), PrometheusText);
        assert_eq!(format("application/openmetrics-text;q=bad"), PrometheusText);
        assert_eq!(negotiate_format(&HeaderMap::new()), PrometheusText);
    }

    #[test]
    fn gzip_when_accept_encoding_allows_it() {
        let gzip = |v: &'static str| accepts_gzip(&headers(&[(header::ACCEPT_ENCODING, v)]));
        assert!(gzip("gzip"));
        assert!(gzip("deflate, gzip;q=0.5"));
        assert!(gzip("*"));
        assert!(gzip("x-gzip"));
        assert!(!gzip("gzip;q=0"));
        assert!(!gzip("*, gzip;q=0"));
        assert!(!gzip("identity"));
        assert!(!gzip("br"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }
}
