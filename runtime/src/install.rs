//! `install()`: the checks first, so a refusal changes nothing; then each global piece in turn.

use std::collections::HashMap;
use std::net::TcpListener as StdListener;
use std::sync::Arc;

use metrics::{Key, Label};
use tokio::sync::{oneshot, watch};
use tracing_subscriber::layer::SubscriberExt;

use crate::admin::{self, AdminState};
use crate::builder::{Config, TelemetryBuilder};
use crate::catalog::{self, Catalog, MetricKind};
use crate::error::Error;
use crate::global::{self, Installed};
use crate::health::Health;
use crate::logging::{self, JsonLayer};
use crate::series::{Limits, OVERFLOW_METRIC, SHAPE_CONFLICT_METRIC, Store};
use crate::telemetry::Telemetry;

impl TelemetryBuilder {
    /// Installs the global recorder and the log subscriber, and starts the admin server.
    ///
    /// Serves on the current Tokio runtime, or on a thread of its own when called outside one. Fails,
    /// changing nothing, when the catalog has conflicts, a setting is invalid, the admin address is
    /// invalid or in use, or a recorder or subscriber is already installed. Logs one INFO line: the
    /// service, its version, where the admin routes are served and how many metrics the catalog has.
    ///
    /// # Examples
    ///
    /// ```standalone_crate
    /// let telemetry = mvi::Telemetry::builder().without_admin_server().without_logs().install();
    /// assert!(telemetry.is_ok());
    /// // Once per process: a second install is refused and changes nothing.
    /// let again = mvi::Telemetry::builder().without_admin_server().without_logs().install();
    /// assert!(matches!(again, Err(mvi::Error::AlreadyInstalled)));
    /// ```
    pub fn install(self) -> Result<Telemetry, Error> {
        if global::installed().is_some() {
            return Err(Error::AlreadyInstalled);
        }
        let catalog = checked_catalog()?;
        let config = self.check()?;
        let listener = config.admin_addr.map(bind).transpose()?;
        #[cfg(feature = "otlp")]
        let trace_export = trace_export(&config)?;

        let store = Arc::new(Store::new(limits(&config, catalog)));
        store.read_at_scrape(crate::declared::read_callbacks);
        set_recorder(&store)?;
        if !global::install(Installed {
            store: store.clone(),
            clock: crate::series::clock().clone(),
        }) {
            return Err(Error::AlreadyInstalled);
        }
        let Config {
            service_name,
            service_version,
            service_commit,
            checks,
            check_timeout,
            check_cache,
            logs,
            sampling,
            access_log,
            shutdown_delay,
            shutdown_timeout,
            ..
        } = config;
        global::set_access_log(access_log);
        if let Some((output, filter)) = logs {
            #[cfg(feature = "otlp")]
            let exporting = trace_export.is_some();
            #[cfg(not(feature = "otlp"))]
            let exporting = false;
            let filter = if exporting {
                filter
            } else {
                filter.without_client_spans()
            };
            let layer = JsonLayer::new(output, sampling, &*store);
            logging::make_global(&layer);
            let subscriber = tracing_subscriber::registry().with(filter).with(layer);
            #[cfg(feature = "otlp")]
            let subscriber = subscriber.with(trace_export.as_ref().map(|e| e.layer()));
            // Checked above that no subscriber is set; losing a race here only loses mvi's logs.
            let _ = tracing::subscriber::set_global_default(subscriber);
        } else {
            #[cfg(feature = "otlp")]
            if let Some(export) = &trace_export {
                let _ = tracing::subscriber::set_global_default(
                    tracing_subscriber::registry().with(export.layer()),
                );
            }
        }
        declare(&store, catalog);
        Health::describe(&*store);
        let process = metrics_process::Collector::default();
        process.describe();
        admin::describe();
        build_info(&service_name, &service_version, service_commit.as_deref());

        let admin = Arc::new(AdminState {
            store: store.clone(),
            health: Health::new(checks, check_timeout, check_cache),
            process,
            tokio: tokio::runtime::Handle::try_current().ok(),
        });
        let (stop, stopped) = watch::channel(false);
        let mut tasks = Vec::new();
        let admin_addr = listener.as_ref().and_then(|l| l.local_addr().ok());
        if let Some(listener) = listener {
            tasks.push(spawn(admin::serve(
                listener,
                admin::router(admin.clone()),
                stopped,
            )));
        }
        let admin_routes = admin_addr.map_or_else(
            || "served by the application (Telemetry::admin_router)".to_string(),
            |a| format!("http://{a}"),
        );
        tracing::info!(
            target: "mvi",
            service = %service_name,
            version = %service_version,
            admin = %admin_routes,
            catalog_metrics = catalog.metrics().len(),
            "telemetry installed"
        );
        Ok(Telemetry {
            admin,
            admin_addr,
            service_name,
            stopping: watch::channel(false).0,
            stop,
            tasks,
            shutdown_delay,
            shutdown_timeout,
            _flush_logs: logging::FlushOnDrop,
            #[cfg(feature = "otlp")]
            trace_export,
        })
    }
}

/// The catalog, unless two declarations conflict.
fn checked_catalog() -> Result<&'static Catalog, Error> {
    let catalog = catalog::catalog();
    if catalog.conflicts().is_empty() {
        return Ok(catalog);
    }
    Err(Error::CatalogConflict {
        conflicts: catalog
            .conflicts()
            .iter()
            .map(ToString::to_string)
            .collect(),
    })
}

fn bind(addr: std::net::SocketAddr) -> Result<StdListener, Error> {
    let listener = StdListener::bind(addr).map_err(|source| Error::Bind { addr, source })?;
    listener
        .set_nonblocking(true)
        .map_err(|source| Error::Bind { addr, source })?;
    Ok(listener)
}

/// The store's rules: the global cap, each metric's own, and the bounds of histograms recorded by name.
fn limits(config: &Config, catalog: &Catalog) -> Limits {
    let mut bounds: HashMap<String, &'static [f64]> = HashMap::new();
    let mut caps = HashMap::new();
    for entry in catalog.metrics() {
        if entry.kind == MetricKind::Histogram {
            bounds.insert(entry.name.to_string(), entry.decls[0].buckets);
        }
        if let Some(cap) = entry.decls.iter().find_map(|d| d.max_series) {
            caps.insert(entry.name.to_string(), cap);
        }
    }
    for (name, b) in &config.buckets {
        bounds.insert(name.clone(), b);
    }
    Limits {
        max_series: config.max_series,
        caps,
        bounds,
    }
}

fn set_recorder(store: &Arc<Store>) -> Result<(), Error> {
    metrics::set_global_recorder(store.clone()).map_err(|_| {
        if global::installed().is_some() {
            Error::AlreadyInstalled
        } else {
            Error::ForeignRecorder
        }
    })
}

/// The OTLP exporter, when an endpoint is configured.
#[cfg(feature = "otlp")]
fn trace_export(config: &Config) -> Result<Option<crate::otel::TraceExport>, Error> {
    let configured = config.otlp_endpoint.is_some()
        || std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_some()
        || std::env::var_os("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some();
    if !configured {
        return Ok(None);
    }
    crate::otel::TraceExport::new(&config.service_name, config.otlp_endpoint.as_deref())
        .map(Some)
        .map_err(|reason| Error::TraceExport { reason })
}

/// HELP/TYPE for every declared metric, and a zero-valued series for every label set known at compile
/// time, each with its own declaration's labels and buckets.
fn declare(store: &Store, catalog: &Catalog) {
    use metrics::Recorder as _;
    store.describe_counter(
        OVERFLOW_METRIC.into(),
        None,
        "Calls recorded under `__overflow__` because a metric reached its label-set cap.".into(),
    );
    store.describe_counter(
        SHAPE_CONFLICT_METRIC.into(),
        None,
        "Samples not exported because a call site fed an existing series with other buckets."
            .into(),
    );
    for entry in catalog.metrics() {
        store.describe(entry.name, Some(entry.unit), entry.help);
        for decl in &entry.decls {
            let names = decl.label_names();
            let series = decl.zero_series();
            if series.len() > store.cap(decl.name) {
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
                    MetricKind::Counter => drop(store.counter(&key)),
                    MetricKind::Gauge => drop(store.gauge(&key)),
                    MetricKind::Histogram => drop(store.histogram(&key, decl.buckets)),
                }
            }
        }
    }
}

/// Runs a task on the current Tokio runtime, or on a small runtime of its own when there is none.
/// The receiver completes when the task has finished.
fn spawn(task: impl std::future::Future<Output = ()> + Send + 'static) -> oneshot::Receiver<()> {
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

/// `mvi_build_info{service,version}`, and `build_info{service_name,version,commit}` as autometrics
/// names it, which its dashboards and query links join to every series `on (instance, job)`. Both
/// are 1; `commit` is left out when it is not known.
fn build_info(service: &str, version: &str, commit: Option<&str>) {
    metrics::describe_gauge!(
        "mvi_build_info",
        "Service name and version; the value is always 1."
    );
    metrics::gauge!("mvi_build_info", "service" => service.to_string(), "version" => version.to_string())
        .set(1.0);
    metrics::describe_gauge!(
        "build_info",
        "Service name, version and commit, as autometrics' dashboards join them; the value is always 1."
    );
    let mut labels = vec![
        Label::new("service_name", service.to_string()),
        Label::new("version", version.to_string()),
    ];
    if let Some(commit) = commit {
        labels.push(Label::new("commit", commit.to_string()));
    }
    metrics::gauge!("build_info", labels).set(1.0);
}
