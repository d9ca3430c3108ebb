//! `Telemetry::builder()...install()`: the recorder, the catalog, and the admin HTTP server.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics::{Key, Label, Level, Metadata, Recorder};
use metrics_exporter_prometheus::PrometheusBuilder;
use tokio::sync::oneshot;
use tokio::sync::watch;

use crate::catalog::{self, MetricKind};
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
    /// Two places declare one metric name differently.
    #[error("{}", conflicts.join("\n"))]
    CatalogConflict {
        /// One line per conflict, naming both source locations.
        conflicts: Vec<String>,
    },
}

/// Configures and installs mvi. Start with [`Telemetry::builder`].
#[derive(Debug, Clone)]
pub struct TelemetryBuilder {
    service_name: Option<String>,
    admin_addr: Option<String>,
    serve_admin: bool,
    max_series: usize,
    buckets: Vec<(String, Vec<f64>)>,
    #[cfg(feature = "otlp")]
    otlp_endpoint: Option<String>,
}

/// The installed telemetry: owns the admin server. Keep it alive for the life of the program.
#[derive(Debug)]
pub struct Telemetry {
    recorder: MviRecorder,
    service_name: String,
    admin_addr: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    tasks: Vec<oneshot::Receiver<()>>,
    #[cfg(feature = "otlp")]
    trace_export: Option<crate::otel::TraceExport>,
}

impl Telemetry {
    /// A builder with the defaults: admin endpoints on [`DEFAULT_ADMIN_ADDR`], 1,000 label sets per call site.
    pub fn builder() -> TelemetryBuilder {
        TelemetryBuilder {
            service_name: None,
            admin_addr: None,
            serve_admin: true,
            max_series: 1000,
            buckets: Vec::new(),
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
        &self.service_name
    }

    /// The `/metrics` body as it would be served now.
    pub fn render(&self) -> String {
        self.recorder.render()
    }

    /// The admin routes (`/metrics`), to merge into the application's own router:
    /// `app.merge(telemetry.admin_router())`.
    pub fn admin_router(&self) -> Router {
        let recorder = self.recorder.clone();
        Router::new().route("/metrics", get(move || metrics_response(recorder.clone())))
    }

    /// Stops the admin server and the upkeep task, and waits for them.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        #[cfg(feature = "otlp")]
        if let Some(export) = self.trace_export {
            export.shutdown().await;
        }
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

async fn metrics_response(recorder: MviRecorder) -> Response {
    (
        [(header::CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE)],
        recorder.render(),
    )
        .into_response()
}

impl TelemetryBuilder {
    /// The service name (default: `OTEL_SERVICE_NAME`, else the binary's name).
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// Where the admin endpoints listen (default: [`DEFAULT_ADMIN_ADDR`]); `127.0.0.1:0` picks a free port.
    pub fn admin_addr(mut self, addr: impl Into<String>) -> Self {
        self.admin_addr = Some(addr.into());
        self
    }

    /// Serve no admin port; mount [`Telemetry::admin_router`] on the application's router instead.
    pub fn without_admin_server(mut self) -> Self {
        self.serve_admin = false;
        self
    }

    /// Cap on distinct label sets recorded per call site with `labels(...)` (default 1,000). Past it,
    /// new sets are recorded as `__overflow__` and `mvi_series_overflow_total{metric}` rises.
    pub fn max_series_per_metric(mut self, cap: usize) -> Self {
        self.max_series = cap.max(1);
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

    /// Installs the global recorder and starts the admin server.
    ///
    /// Serves on the current Tokio runtime, or on a thread of its own when called outside one. Fails,
    /// changing nothing, when the catalog has conflicts, the address is invalid or in use, or a recorder
    /// is already installed.
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

        let recorder = MviRecorder::new(
            PrometheusBuilder::new().build_recorder(),
            Native::new(
                catalog
                    .metrics()
                    .iter()
                    .filter(|e| e.kind == MetricKind::Counter)
                    .map(|e| e.name.to_string())
                    .collect(),
                bounds,
                Arc::from(DEFAULT_BUCKETS),
            ),
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
        };
        if !runtime::set(rt) {
            return Err(Error::AlreadyInstalled);
        }
        declare_catalog(&recorder, self.max_series);
        let service_name = self
            .service_name
            .clone()
            .unwrap_or_else(default_service_name);
        #[cfg(feature = "otlp")]
        let trace_export = self.install_trace_export(&service_name)?;

        let (stop, stopped) = watch::channel(false);
        let mut telemetry = Telemetry {
            recorder: recorder.clone(),
            service_name,
            admin_addr: None,
            stop,
            tasks: Vec::new(),
            #[cfg(feature = "otlp")]
            trace_export,
        };
        telemetry
            .tasks
            .push(spawn(upkeep(recorder, stopped.clone())));
        if let Some(listener) = listener {
            let addr = listener.local_addr().ok();
            telemetry.admin_addr = addr;
            let router = telemetry.admin_router();
            telemetry
                .tasks
                .push(spawn(serve(listener, router, stopped)));
        }
        Ok(telemetry)
    }
}

impl TelemetryBuilder {
    /// Builds the OTLP exporter when an endpoint is configured and installs its tracing layer.
    #[cfg(feature = "otlp")]
    fn install_trace_export(
        &self,
        service_name: &str,
    ) -> Result<Option<crate::otel::TraceExport>, Error> {
        use tracing_subscriber::layer::SubscriberExt;
        let configured = self.otlp_endpoint.is_some()
            || std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_some()
            || std::env::var_os("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some();
        if !configured {
            return Ok(None);
        }
        let export = crate::otel::TraceExport::new(service_name, self.otlp_endpoint.as_deref())?;
        let subscriber = tracing_subscriber::registry().with(export.layer());
        tracing::subscriber::set_global_default(subscriber).map_err(|e| Error::TraceExport {
            reason: format!("a tracing subscriber is already set: {e}"),
        })?;
        Ok(Some(export))
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
    let router = router.fallback(|| async { (StatusCode::NOT_FOUND, "not found; try /metrics\n") });
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
            if series.len() > max_series {
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

fn default_service_name() -> String {
    std::env::var("OTEL_SERVICE_NAME")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| {
            std::env::current_exe()
                .ok()
                .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
                .unwrap_or_else(|| "unknown_service".into())
        })
}
