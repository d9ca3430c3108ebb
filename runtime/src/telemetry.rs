//! `Telemetry::builder()...install()`: the recorder, the catalog, and the admin HTTP server.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::Arc;
use std::time::Duration;

use std::fmt::Display;
use std::future::Future;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics::{Key, Label, Level, Metadata, Recorder};
use metrics_exporter_prometheus::PrometheusBuilder;
use tokio::sync::oneshot;
use tokio::sync::watch;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;

use crate::catalog::{self, MetricKind};
use crate::health::{Check, Health, HealthReport};
use crate::logging::{DEFAULT_FILTER, JsonLayer, LogOutput};
use crate::recorder::{MviRecorder, Native};
use crate::runtime::{self, OVERFLOW_METRIC, Runtime};

/// The `Content-Type` of `/metrics`: the Prometheus text format, version 0.0.4.
pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Where the admin endpoints listen unless told otherwise (the OpenTelemetry Prometheus exporter's port).
pub const DEFAULT_ADMIN_ADDR: &str = "0.0.0.0:9464";

/// The buckets of histograms nobody declared buckets for: OpenTelemetry's recommendation for durations.
pub const DEFAULT_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// How often the exporter's upkeep runs.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Why [`TelemetryBuilder::install`] refused to start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `install` already ran in this process.
    #[error(
        "mvi is already installed in this process; call `install` once and share the `Telemetry`"
    )]
    AlreadyInstalled,
    /// Another crate installed the global `metrics` recorder first.
    #[error(
        "another `metrics` recorder is already installed; mvi must own the global recorder to export it"
    )]
    ForeignRecorder,
    /// The admin address is not a socket address.
    #[error("invalid admin address `{addr}`: expected `host:port`, like `127.0.0.1:9464`")]
    InvalidAddr {
        /// The address as given.
        addr: String,
    },
    /// The admin address could not be bound (in use, or not permitted).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Histogram buckets given to the builder are unusable.
    #[error("invalid buckets for histogram `{name}`: {reason}")]
    InvalidBuckets {
        /// The histogram.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// The OTLP trace exporter could not be built (feature `otlp`).
    #[error("cannot export traces: {reason}")]
    TraceExport {
        /// What the exporter said.
        reason: String,
    },
    /// A builder setting is unusable (log filter, sample ratio, a subscriber already set).
    #[error("invalid configuration: {reason}")]
    InvalidConfig {
        /// What is wrong.
        reason: String,
    },
    /// Two places declare one metric name differently.
    #[error("{}", conflicts.join("\n"))]
    CatalogConflict {
        /// One line per conflict, naming both source locations.
        conflicts: Vec<String>,
    },
}

/// Configures and installs mvi. Start with [`Telemetry::builder`].
#[derive(Debug)]
pub struct TelemetryBuilder {
    service_name: Option<String>,
    service_version: Option<String>,
    admin_addr: Option<String>,
    serve_admin: bool,
    max_series: usize,
    buckets: Vec<(String, Vec<f64>)>,
    checks: Vec<Check>,
    check_timeout: Duration,
    check_cache: Duration,
    logs: Option<LogOutput>,
    log_filter: Option<String>,
    debug_sample_ratio: f64,
    shutdown_timeout: Duration,
    #[cfg(feature = "otlp")]
    otlp_endpoint: Option<String>,
}

/// The installed telemetry: owns the admin server. Keep it alive for the life of the program and call
/// [`shutdown`](Telemetry::shutdown) on the way out.
#[derive(Debug)]
pub struct Telemetry {
    shared: Arc<Shared>,
    admin_addr: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    tasks: Vec<oneshot::Receiver<()>>,
    shutdown_timeout: Duration,
    #[cfg(feature = "otlp")]
    trace_export: Option<crate::otel::TraceExport>,
}

/// What the admin routes need.
#[derive(Debug)]
struct Shared {
    recorder: MviRecorder,
    health: Health,
    process: metrics_process::Collector,
    tokio: Option<tokio::runtime::Handle>,
    service_name: String,
    logs: Option<LogOutput>,
    stopping: watch::Sender<bool>,
}

impl Telemetry {
    /// A builder with the defaults: admin endpoints on [`DEFAULT_ADMIN_ADDR`] (or `MVI_ADMIN_ADDR`),
    /// JSON logs on stdout filtered by `RUST_LOG`, 1,000 label sets per call site.
    pub fn builder() -> TelemetryBuilder {
        TelemetryBuilder {
            service_name: None,
            service_version: None,
            admin_addr: None,
            serve_admin: true,
            max_series: 1000,
            buckets: Vec::new(),
            checks: Vec::new(),
            check_timeout: Duration::from_secs(1),
            check_cache: Duration::from_secs(1),
            logs: Some(LogOutput::Stdout),
            log_filter: None,
            debug_sample_ratio: 1.0,
            shutdown_timeout: Duration::from_secs(30),
            #[cfg(feature = "otlp")]
            otlp_endpoint: None,
        }
    }

    /// The address the admin server is bound to (with the real port when `:0` was asked for).
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin_addr
    }

    /// The service name.
    pub fn service_name(&self) -> &str {
        &self.shared.service_name
    }

    /// The `/metrics` body as it would be served now.
    pub fn render(&self) -> String {
        self.shared.render()
    }

    /// The health report as `/healthz` would answer now.
    pub async fn health(&self) -> HealthReport {
        self.shared.health.report().await
    }

    /// The admin routes (`/metrics`, `/livez`, `/healthz`, `/readyz`), to merge into the application's
    /// own router instead of serving a second port: `app.merge(telemetry.admin_router())`.
    pub fn admin_router(&self) -> Router {
        admin_router(self.shared.clone())
    }

    /// Resolves when [`shutdown`](Telemetry::shutdown) begins: pass it to
    /// `axum::serve(..).with_graceful_shutdown(telemetry.stopping())` so the application stops accepting
    /// connections while `/readyz` already answers 503.
    pub fn stopping(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.shared.stopping.subscribe();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    }

    /// Shuts down in the order Kubernetes expects: `/readyz` answers 503 at once and
    /// [`stopping`](Telemetry::stopping) resolves; requests in flight in `#[traced_handler]`s finish
    /// (bounded by the shutdown timeout, 30 s by default); then the admin server stops, spans are
    /// flushed (feature `otlp`) and logs are flushed.
    pub async fn shutdown(self) {
        self.shared.health.begin_shutdown();
        let _ = self.shared.stopping.send(true);
        tracing::info!(target: "mvi", "shutting down: readiness is now 503");
        let _ = tokio::time::timeout(self.shutdown_timeout, crate::http::drained()).await;
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        #[cfg(feature = "otlp")]
        if let Some(export) = self.trace_export {
            export.shutdown().await;
        }
        tracing::info!(target: "mvi", "shutdown complete");
        if let Some(logs) = &self.shared.logs {
            logs.flush();
        }
    }
}

impl Shared {
    fn render(&self) -> String {
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
        self.recorder.render()
    }
}

fn admin_router(shared: Arc<Shared>) -> Router {
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
        .with_state(shared)
}

async fn metrics_response(State(shared): State<Arc<Shared>>) -> Response {
    // Rendering walks every series: keep it off the async workers.
    let body = tokio::task::spawn_blocking(move || shared.render())
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

async fn healthz(State(shared): State<Arc<Shared>>) -> Response {
    health_response(&shared.health.report().await)
}

async fn readyz(State(shared): State<Arc<Shared>>) -> Response {
    if shared.health.is_shutting_down() {
        let report = HealthReport {
            status: "fail",
            checks: Default::default(),
        };
        return health_response(&report);
    }
    health_response(&shared.health.report().await)
}

impl TelemetryBuilder {
    /// The service name (default: `OTEL_SERVICE_NAME`, else the name of the running binary).
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// The service version for `mvi_build_info` (pass `env!("CARGO_PKG_VERSION")`; default `unknown`).
    pub fn service_version(mut self, version: impl Into<String>) -> Self {
        self.service_version = Some(version.into());
        self
    }

    /// Where the admin endpoints listen (default: `MVI_ADMIN_ADDR`, else [`DEFAULT_ADMIN_ADDR`]);
    /// `127.0.0.1:0` picks a free port.
    pub fn admin_addr(mut self, addr: impl Into<String>) -> Self {
        self.admin_addr = Some(addr.into());
        self
    }

    /// Serve no admin port; mount [`Telemetry::admin_router`] on the application's router instead.
    pub fn without_admin_server(mut self) -> Self {
        self.serve_admin = false;
        self
    }

    /// Registers a check run by `/healthz` and `/readyz`. It returns `Result<(), E>` with `E: Display`;
    /// an error, a panic or a timeout fails it.
    ///
    /// ```no_run
    /// # async fn ping() -> Result<(), std::io::Error> { Ok(()) }
    /// #[tokio::main]
    /// async fn main() -> Result<(), mvi::Error> {
    ///     let telemetry = mvi::Telemetry::builder()
    ///         .readiness_check("postgres", || async { ping().await })
    ///         .install()?;
    ///     telemetry.shutdown().await;
    ///     Ok(())
    /// }
    /// ```
    pub fn readiness_check<F, Fut, E>(mut self, name: impl Into<String>, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Display,
    {
        self.checks.push(Check::new(name.into(), check));
        self
    }

    /// How long one check may run before it counts as failed (default 1 s).
    pub fn check_timeout(mut self, timeout: Duration) -> Self {
        self.check_timeout = timeout;
        self
    }

    /// How long a health report is reused, so probe storms do not reach dependencies (default 1 s).
    pub fn check_cache(mut self, ttl: Duration) -> Self {
        self.check_cache = ttl;
        self
    }

    /// Where JSON logs go (default: stdout).
    pub fn log_output(mut self, output: LogOutput) -> Self {
        self.logs = Some(output);
        self
    }

    /// Install no log subscriber (you set your own `tracing` subscriber).
    pub fn without_logs(mut self) -> Self {
        self.logs = None;
        self
    }

    /// The log filter, in `RUST_LOG` syntax; overrides `RUST_LOG` (default: `RUST_LOG`, else
    /// [`DEFAULT_FILTER`](crate::DEFAULT_LOG_FILTER)).
    pub fn log_filter(mut self, directives: impl Into<String>) -> Self {
        self.log_filter = Some(directives.into());
        self
    }

    /// Keep this share of DEBUG and TRACE lines (0.0 to 1.0, default 1.0), decided per trace so a trace
    /// keeps all of its debug lines or none. INFO, WARN and ERROR are never dropped.
    pub fn debug_sample_ratio(mut self, ratio: f64) -> Self {
        self.debug_sample_ratio = ratio;
        self
    }

    /// The longest [`Telemetry::shutdown`] waits for requests in flight (default 30 s).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Cap on distinct label sets per metric, over every call site that records it (default 1,000);
    /// `#[observe(max_series = n)]` sets one metric's own. Past it, new sets are recorded as
    /// `__overflow__`, `mvi_series_overflow_total{metric}` rises, and one warning is logged.
    pub fn max_series_per_metric(mut self, cap: usize) -> Self {
        self.max_series = cap;
        self
    }

    /// Export spans over OTLP/HTTP to this collector base URL (`/v1/traces` is appended). Without it,
    /// spans are exported when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
    #[cfg(feature = "otlp")]
    pub fn otlp_endpoint(mut self, url: impl Into<String>) -> Self {
        self.otlp_endpoint = Some(url.into());
        self
    }

    /// Bucket bounds for a histogram that no macro declares (a `metrics::histogram!` of your own).
    pub fn histogram_buckets(mut self, name: impl Into<String>, bounds: &[f64]) -> Self {
        self.buckets.push((name.into(), bounds.to_vec()));
        self
    }

    /// Installs the global recorder, the log subscriber, and starts the admin server.
    ///
    /// Serves on the current Tokio runtime, or on a thread of its own when called outside one. Fails,
    /// changing nothing, when the catalog has conflicts, the address is invalid or in use, the log
    /// filter is invalid, or a recorder or subscriber is already installed.
    pub fn install(self) -> Result<Telemetry, Error> {
        if runtime::get().is_some() {
            return Err(Error::AlreadyInstalled);
        }
        let catalog = catalog::catalog();
        if !catalog.conflicts().is_empty() {
            return Err(Error::CatalogConflict {
                conflicts: catalog
                    .conflicts()
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            });
        }
        let mut bounds: HashMap<String, Arc<[f64]>> = HashMap::new();
        for (name, b) in &self.buckets {
            check_buckets(b).map_err(|reason| Error::InvalidBuckets {
                name: name.clone(),
                reason,
            })?;
            bounds.insert(name.clone(), Arc::from(b.as_slice()));
        }
        for entry in catalog
            .metrics()
            .iter()
            .filter(|e| e.kind == MetricKind::Histogram)
        {
            bounds.insert(entry.name.to_string(), Arc::from(entry.buckets));
        }
        if self.max_series == 0 {
            return Err(Error::InvalidConfig {
                reason: "max_series_per_metric must be at least 1".into(),
            });
        }
        if self.check_timeout.is_zero() {
            return Err(Error::InvalidConfig {
                reason: "check_timeout must be longer than zero, or every check fails".into(),
            });
        }
        if !(0.0..=1.0).contains(&self.debug_sample_ratio) {
            return Err(Error::InvalidConfig {
                reason: format!(
                    "debug_sample_ratio must be within 0.0 and 1.0, not {}",
                    self.debug_sample_ratio
                ),
            });
        }
        let filter = match &self.logs {
            Some(_) => {
                if tracing::dispatcher::has_been_set() {
                    return Err(Error::InvalidConfig {
                        reason: "a `tracing` subscriber is already set; call `without_logs()` to keep yours".into(),
                    });
                }
                let directives = self
                    .log_filter
                    .clone()
                    .or_else(|| {
                        std::env::var("RUST_LOG")
                            .ok()
                            .filter(|s| !s.trim().is_empty())
                    })
                    .unwrap_or_else(|| DEFAULT_FILTER.to_string());
                Some(
                    EnvFilter::try_new(&directives).map_err(|e| Error::InvalidConfig {
                        reason: format!("invalid log filter `{directives}`: {e}"),
                    })?,
                )
            }
            None => None,
        };
        let listener = if self.serve_admin {
            let addr_text = self
                .admin_addr
                .clone()
                .or_else(|| std::env::var("MVI_ADMIN_ADDR").ok())
                .unwrap_or_else(|| DEFAULT_ADMIN_ADDR.to_string());
            let addr: SocketAddr = addr_text.parse().map_err(|_| Error::InvalidAddr {
                addr: addr_text.clone(),
            })?;
            let listener =
                StdListener::bind(addr).map_err(|source| Error::Bind { addr, source })?;
            listener
                .set_nonblocking(true)
                .map_err(|source| Error::Bind { addr, source })?;
            Some(listener)
        } else {
            None
        };
        let service_name = self
            .service_name
            .clone()
            .unwrap_or_else(default_service_name);
        #[cfg(feature = "otlp")]
        let trace_export = self.trace_export(&service_name)?;

        let counter_names = catalog
            .metrics()
            .iter()
            .filter(|e| e.kind == MetricKind::Counter)
            .map(|e| e.name.to_string());
        let recorder = MviRecorder::new(
            PrometheusBuilder::new().build_recorder(),
            Native::new(counter_names.collect(), bounds, Arc::from(DEFAULT_BUCKETS)),
        );
        if metrics::set_global_recorder(recorder.clone()).is_err() {
            return Err(if runtime::get().is_some() {
                Error::AlreadyInstalled
            } else {
                Error::ForeignRecorder
            });
        }
        let rt = Runtime {
            recorder: recorder.clone(),
            clock: quanta::Clock::new(),
            max_series: self.max_series,
            series: Default::default(),
        };
        if !runtime::set(rt) {
            return Err(Error::AlreadyInstalled);
        }
        if let (Some(output), Some(filter)) = (&self.logs, filter) {
            let layer = JsonLayer::new(output.clone(), self.debug_sample_ratio, &recorder);
            let subscriber = tracing_subscriber::registry().with(filter).with(layer);
            #[cfg(feature = "otlp")]
            let subscriber = subscriber.with(trace_export.as_ref().map(|e| e.layer()));
            // Checked above that no subscriber is set; losing a race here only loses mvi's logs.
            let _ = tracing::subscriber::set_global_default(subscriber);
        }
        #[cfg(feature = "otlp")]
        if let (None, Some(export)) = (&self.logs, &trace_export) {
            let _ = tracing::subscriber::set_global_default(
                tracing_subscriber::registry().with(export.layer()),
            );
        }
        declare_catalog(&recorder, self.max_series);
        Health::describe(&recorder);
        let process = metrics_process::Collector::default();
        process.describe();
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
        metrics::describe_gauge!(
            "mvi_build_info",
            "Service name and version; the value is always 1."
        );
        let version = self
            .service_version
            .clone()
            .unwrap_or_else(|| "unknown".into());
        metrics::gauge!("mvi_build_info", "service" => service_name.clone(), "version" => version)
            .set(1.0);

        let (stop, stopped) = watch::channel(false);
        let shared = Arc::new(Shared {
            recorder: recorder.clone(),
            health: Health::new(self.checks, self.check_timeout, self.check_cache),
            process,
            tokio: tokio::runtime::Handle::try_current().ok(),
            service_name,
            logs: self.logs,
            stopping: watch::channel(false).0,
        });
        let mut telemetry = Telemetry {
            shared,
            admin_addr: None,
            stop,
            tasks: Vec::new(),
            shutdown_timeout: self.shutdown_timeout,
            #[cfg(feature = "otlp")]
            trace_export,
        };
        telemetry
            .tasks
            .push(spawn(upkeep(recorder, stopped.clone())));
        if let Some(listener) = listener {
            telemetry.admin_addr = listener.local_addr().ok();
            let router = telemetry.admin_router();
            telemetry
                .tasks
                .push(spawn(serve(listener, router, stopped)));
        }
        Ok(telemetry)
    }

    /// The OTLP exporter, when an endpoint is configured.
    #[cfg(feature = "otlp")]
    fn trace_export(&self, service_name: &str) -> Result<Option<crate::otel::TraceExport>, Error> {
        let configured = self.otlp_endpoint.is_some()
            || std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_some()
            || std::env::var_os("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some();
        if !configured {
            return Ok(None);
        }
        crate::otel::TraceExport::new(service_name, self.otlp_endpoint.as_deref()).map(Some)
    }
}

/// Runs a task on the current Tokio runtime, or on a small runtime of its own when there is none.
/// The receiver completes when the task has finished.
fn spawn(task: impl Future<Output = ()> + Send + 'static) -> oneshot::Receiver<()> {
    let (done, finished) = oneshot::channel();
    let task = async move {
        task.await;
        let _ = done.send(());
    };
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => drop(handle.spawn(task)),
        Err(_) => {
            let thread = std::thread::Builder::new()
                .name("mvi-admin".into())
                .spawn(move || {
                    if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    {
                        rt.block_on(task);
                    }
                });
            drop(thread);
        }
    }
    finished
}

async fn upkeep(recorder: MviRecorder, mut stopped: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(UPKEEP_INTERVAL);
    loop {
        tokio::select! {
            _ = tick.tick() => recorder.run_upkeep(),
            _ = stopped.wait_for(|s| *s) => return,
        }
    }
}

async fn serve(listener: StdListener, router: Router, mut stopped: watch::Receiver<bool>) {
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

/// HELP/TYPE for every declared metric, and a zero-valued series for every static label set.
fn declare_catalog(recorder: &MviRecorder, max_series: usize) {
    static META: Metadata<'static> =
        Metadata::new(module_path!(), Level::INFO, Some(module_path!()));
    recorder.describe_counter(
        OVERFLOW_METRIC.into(),
        None,
        "Calls recorded under `__overflow__` because a call site reached its label-set cap.".into(),
    );
    for entry in catalog::catalog().metrics() {
        let (name, help) = (entry.name.into(), entry.help.into());
        match entry.kind {
            MetricKind::Counter => recorder.describe_counter(name, None, help),
            MetricKind::Gauge => recorder.describe_gauge(name, None, help),
            MetricKind::Histogram => recorder.describe_histogram(name, None, help),
        }
        for decl in &entry.decls {
            let names = decl.label_names();
            let series = decl.zero_series();
            if series.len() > decl.max_series.unwrap_or(max_series) {
                continue;
            }
            for values in series {
                let labels: Vec<Label> = names
                    .iter()
                    .zip(values)
                    .map(|(k, v)| Label::from_static_parts(k, v))
                    .collect();
                let key = Key::from_parts(decl.name, labels);
                match decl.kind {
                    MetricKind::Counter => drop(recorder.register_counter(&key, &META)),
                    MetricKind::Gauge => drop(recorder.register_gauge(&key, &META)),
                    MetricKind::Histogram => drop(recorder.register_histogram(&key, &META)),
                }
            }
        }
    }
}

fn check_buckets(bounds: &[f64]) -> Result<(), String> {
    if bounds.is_empty() || bounds.len() > 64 {
        return Err(format!("give 1 to 64 bounds, not {}", bounds.len()));
    }
    if let Some(b) = bounds.iter().find(|b| !b.is_finite()) {
        return Err(format!("bound {b} is not finite"));
    }
    if let Some(w) = bounds.windows(2).find(|w| w[1] <= w[0]) {
        return Err(format!(
            "bounds must be strictly increasing, but {} follows {}",
            w[1], w[0]
        ));
    }
    Ok(())
}

/// `OTEL_SERVICE_NAME`, else the running binary's name (for a one-binary crate, the crate's name;
/// the hash cargo appends to test binaries is dropped).
fn default_service_name() -> String {
    if let Some(name) = std::env::var("OTEL_SERVICE_NAME")
        .ok()
        .filter(|s| !s.trim().is_empty())
    {
        return name;
    }
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()));
    let Some(exe) = exe else {
        return "unknown_service".into();
    };
    match exe.rsplit_once('-') {
        Some((stem, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            stem.to_string()
        }
        _ => exe,
    }
}
