//! The builder: every setting, its default, and the checks that turn it into a [`Config`].

use std::fmt::Display;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use crate::error::Error;
use crate::health::Check;
use crate::logging::{
    DEFAULT_4XX_SAMPLE_RATIO, DEFAULT_FILTER, DEFAULT_RATE_LIMIT, LogFilter, LogOutput, Sampling,
};
use crate::series::check_buckets;

/// Where the admin endpoints listen unless told otherwise: every interface, on the OpenTelemetry
/// Prometheus exporter's port, as exporters do, since Kubernetes probes and Prometheus scrapes reach
/// the pod from outside. On a laptop, pass `127.0.0.1:9464` (or set `MVI_ADMIN_ADDR`).
///
/// # Examples
///
/// ```
/// assert_eq!(mvi::DEFAULT_ADMIN_ADDR, "0.0.0.0:9464");
/// ```
pub const DEFAULT_ADMIN_ADDR: &str = "0.0.0.0:9464";

/// Where [`service_commit`](TelemetryBuilder::service_commit) is read from when it is not given, in
/// this order: the names CI services and container builds commonly set (Jenkins and the usual Docker
/// build argument, Docker Hub's builds, GitHub Actions, GitLab CI).
///
/// # Examples
///
/// ```
/// // A container built with `--build-arg GIT_COMMIT=$(git rev-parse HEAD)` and `ENV GIT_COMMIT=...`
/// // needs no `service_commit`: `build_info` gets its `commit` label from the environment.
/// assert_eq!(mvi::COMMIT_ENV_VARS[0], "GIT_COMMIT");
/// ```
pub const COMMIT_ENV_VARS: [&str; 4] =
    ["GIT_COMMIT", "SOURCE_COMMIT", "GITHUB_SHA", "CI_COMMIT_SHA"];

/// Default cap on label sets per metric.
const DEFAULT_MAX_SERIES: usize = 1000;

/// Configures and installs mvi. Start with [`Telemetry::builder`](crate::Telemetry::builder).
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
///
/// # #[tokio::main]
/// # async fn main() -> Result<(), mvi::Error> {
/// let telemetry = mvi::Telemetry::builder()
///     .service_name("shop")
///     .service_version(env!("CARGO_PKG_VERSION"))
///     .admin_addr("0.0.0.0:9464")
///     .readiness_check("postgres", || async { Ok::<(), std::io::Error>(()) })
///     .shutdown_delay(Duration::from_secs(5))
///     .install()?;
/// mvi::shutdown_signal().await;
/// telemetry.shutdown().await;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
#[must_use = "a builder does nothing until `install()`"]
pub struct TelemetryBuilder {
    service_name: Option<String>,
    service_version: Option<String>,
    service_commit: Option<String>,
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
    access_log: bool,
    log_rate_limit: Option<u32>,
    sample_4xx_ratio: f64,
    shutdown_delay: Option<Duration>,
    shutdown_timeout: Duration,
    #[cfg(feature = "otlp")]
    otlp_endpoint: Option<String>,
}

/// The settings after their checks, with the environment read.
#[derive(Debug)]
pub(crate) struct Config {
    pub(crate) service_name: String,
    pub(crate) service_version: String,
    /// The commit the service was built from, if known.
    pub(crate) service_commit: Option<String>,
    /// Where the admin server listens; `None` when the application serves the admin routes.
    pub(crate) admin_addr: Option<SocketAddr>,
    pub(crate) max_series: usize,
    /// Bounds for histograms recorded by name through the `metrics` facade.
    pub(crate) buckets: Vec<(String, &'static [f64])>,
    pub(crate) checks: Vec<Check>,
    pub(crate) check_timeout: Duration,
    pub(crate) check_cache: Duration,
    /// Where logs go and their filter; `None` with `without_logs()`.
    pub(crate) logs: Option<(LogOutput, LogFilter)>,
    /// `debug_sample_ratio`, the log budget and the 4xx share.
    pub(crate) sampling: Sampling,
    pub(crate) access_log: bool,
    pub(crate) shutdown_delay: Duration,
    pub(crate) shutdown_timeout: Duration,
    #[cfg(feature = "otlp")]
    pub(crate) otlp_endpoint: Option<String>,
}

impl Default for TelemetryBuilder {
    fn default() -> Self {
        TelemetryBuilder {
            service_name: None,
            service_version: None,
            service_commit: None,
            admin_addr: None,
            serve_admin: true,
            max_series: DEFAULT_MAX_SERIES,
            buckets: Vec::new(),
            checks: Vec::new(),
            check_timeout: Duration::from_secs(1),
            check_cache: Duration::from_secs(1),
            logs: Some(LogOutput::Stdout),
            log_filter: None,
            debug_sample_ratio: 1.0,
            access_log: true,
            log_rate_limit: None,
            sample_4xx_ratio: DEFAULT_4XX_SAMPLE_RATIO,
            shutdown_delay: None,
            shutdown_timeout: Duration::from_secs(30),
            #[cfg(feature = "otlp")]
            otlp_endpoint: None,
        }
    }
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidConfig {
        reason: reason.into(),
    }
}

/// An environment variable that is set and not blank.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|s| !s.trim().is_empty())
}

impl TelemetryBuilder {
    /// The service name (default: `OTEL_SERVICE_NAME`, else the name of the running binary).
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
    /// assert!(telemetry.render().contains(r#"mvi_build_info{service="shop",version="unknown"} 1"#));
    /// ```
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// The service version for `mvi_build_info` and `build_info` (pass `env!("CARGO_PKG_VERSION")`;
    /// default `unknown`).
    ///
    /// # Examples
    ///
    /// ```standalone_crate
    /// let telemetry = mvi::Telemetry::builder()
    ///     .service_name("shop")
    ///     .service_version("1.4.2")
    ///     .without_admin_server()
    ///     .without_logs()
    ///     .install()
    ///     .unwrap();
    /// assert!(telemetry.render().contains(r#"mvi_build_info{service="shop",version="1.4.2"} 1"#));
    /// ```
    pub fn service_version(mut self, version: impl Into<String>) -> Self {
        self.service_version = Some(version.into());
        self
    }

    /// The commit the service was built from, for `build_info` (default: the first set of
    /// [`COMMIT_ENV_VARS`], else none, and `build_info` has no `commit` label). Pass what your build
    /// knows, like `option_env!("VERGEN_GIT_SHA").unwrap_or_default()`; an empty value counts as not
    /// given.
    ///
    /// # Examples
    ///
    /// ```standalone_crate
    /// let telemetry = mvi::Telemetry::builder()
    ///     .service_name("shop")
    ///     .service_version("1.4.2")
    ///     .service_commit("4f2a9c1")
    ///     .without_admin_server()
    ///     .without_logs()
    ///     .install()
    ///     .unwrap();
    /// let scrape = telemetry.render();
    /// assert!(scrape.contains(r#"build_info{service_name="shop",version="1.4.2",commit="4f2a9c1"} 1"#));
    /// ```
    pub fn service_commit(mut self, commit: impl Into<String>) -> Self {
        self.service_commit = Some(commit.into());
        self
    }

    /// Where the admin endpoints listen (default: `MVI_ADMIN_ADDR`, else [`DEFAULT_ADMIN_ADDR`], every
    /// interface); `127.0.0.1:0` picks a free port on loopback.
    ///
    /// # Examples
    ///
    /// ```standalone_crate
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let telemetry = mvi::Telemetry::builder()
    ///     .admin_addr("127.0.0.1:0") // a free port on loopback
    ///     .without_logs()
    ///     .install()
    ///     .unwrap();
    /// let addr = telemetry.admin_addr().unwrap();
    /// assert!(addr.ip().is_loopback() && addr.port() != 0);
    /// let livez = tokio::net::TcpStream::connect(addr).await;
    /// assert!(livez.is_ok());
    /// telemetry.shutdown().await;
    /// # }
    /// ```
    pub fn admin_addr(mut self, addr: impl Into<String>) -> Self {
        self.admin_addr = Some(addr.into());
        self
    }

    /// Serve no admin port; mount [`Telemetry::admin_router`](crate::Telemetry::admin_router) on the
    /// application's router instead.
    ///
    /// # Examples
    ///
    /// ```standalone_crate
    /// let telemetry = mvi::Telemetry::builder()
    ///     .without_admin_server()
    ///     .without_logs()
    ///     .install()
    ///     .unwrap();
    /// assert_eq!(telemetry.admin_addr(), None);
    /// let app: axum::Router = axum::Router::new()
    ///     .route("/", axum::routing::get(|| async { "shop" }))
    ///     .merge(telemetry.admin_router()); // /metrics, /healthz, /readyz, /livez on the application's port
    /// # drop(app);
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```standalone_crate
    /// use std::time::Duration;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let telemetry = mvi::Telemetry::builder()
    ///     .without_admin_server()
    ///     .without_logs()
    ///     .check_timeout(Duration::from_millis(50))
    ///     .readiness_check("slow", || async {
    ///         tokio::time::sleep(Duration::from_secs(10)).await;
    ///         Ok::<(), String>(())
    ///     })
    ///     .install()
    ///     .unwrap();
    /// let report = telemetry.health().await; // after 50 ms, not 10 s
    /// assert_eq!(report.checks["slow"].status, "fail");
    /// # }
    /// ```
    pub fn check_timeout(mut self, timeout: Duration) -> Self {
        self.check_timeout = timeout;
        self
    }

    /// How long a health report is reused, so probe storms do not reach dependencies (default 1 s).
    ///
    /// # Examples
    ///
    /// ```standalone_crate
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::time::Duration;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let runs = Arc::new(AtomicUsize::new(0));
    /// let counted = runs.clone();
    /// let telemetry = mvi::Telemetry::builder()
    ///     .without_admin_server()
    ///     .without_logs()
    ///     .check_cache(Duration::from_secs(5))
    ///     .readiness_check("database", move || {
    ///         counted.fetch_add(1, Ordering::SeqCst);
    ///         async { Ok::<(), String>(()) }
    ///     })
    ///     .install()
    ///     .unwrap();
    /// for _ in 0..10 {
    ///     assert!(telemetry.health().await.is_ok());
    /// }
    /// assert_eq!(runs.load(Ordering::SeqCst), 1); // ten probes, one run of the check
    /// # }
    /// ```
    pub fn check_cache(mut self, ttl: Duration) -> Self {
        self.check_cache = ttl;
        self
    }

    /// Where JSON logs go (default: stdout).
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
    /// tracing::info!(order = 42, "order placed");
    /// assert!(telemetry.flush_logs());
    /// let written = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    /// let line = written.lines().find(|l| l.contains("order placed")).unwrap();
    /// let json: serde_json::Value = serde_json::from_str(line).unwrap();
    /// assert_eq!((json["level"].as_str(), json["order"].as_u64()), (Some("INFO"), Some(42)));
    /// ```
    pub fn log_output(mut self, output: LogOutput) -> Self {
        self.logs = Some(output);
        self
    }

    /// Install no log subscriber (you set your own `tracing` subscriber).
    ///
    /// # Examples
    ///
    /// ```standalone_crate
    /// // Your own subscriber first; mvi then installs metrics and the admin routes only.
    /// tracing::subscriber::set_global_default(tracing::subscriber::NoSubscriber::default()).unwrap();
    /// let telemetry = mvi::Telemetry::builder().without_admin_server().without_logs().install();
    /// assert!(telemetry.is_ok());
    /// ```
    pub fn without_logs(mut self) -> Self {
        self.logs = None;
        self
    }

    /// The log filter, in `RUST_LOG` syntax; overrides `RUST_LOG` (default: `RUST_LOG`, else
    /// [`DEFAULT_LOG_FILTER`](crate::DEFAULT_LOG_FILTER)).
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
    ///     .log_filter("warn,rust_out=debug") // this crate at DEBUG, the rest at WARN
    ///     .install()
    ///     .unwrap();
    /// tracing::debug!("kept");
    /// tracing::info!(target: "other", "dropped");
    /// telemetry.flush_logs();
    /// let written = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    /// assert!(written.contains("kept") && !written.contains("dropped"));
    /// ```
    pub fn log_filter(mut self, directives: impl Into<String>) -> Self {
        self.log_filter = Some(directives.into());
        self
    }

    /// Keep this share of DEBUG and TRACE lines (0.0 to 1.0, default 1.0), decided per trace so a trace
    /// keeps all of its debug lines or none. Counted as `reason="ratio"`.
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
    ///     .log_filter("debug")
    ///     .debug_sample_ratio(0.0) // no DEBUG line at all; INFO and above are not sampled
    ///     .install()
    ///     .unwrap();
    /// tracing::debug!("sampled out");
    /// tracing::warn!("kept");
    /// telemetry.flush_logs();
    /// let written = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    /// assert!(written.contains("kept") && !written.contains("sampled out"));
    /// ```
    pub fn debug_sample_ratio(mut self, ratio: f64) -> Self {
        self.debug_sample_ratio = ratio;
        self
    }

    /// One access line per request from every `#[traced_handler]` (default: on): `msg` `request`,
    /// `method`, `route`, `status`, `duration_ms` and the request's ids, at ERROR for a 5xx status and
    /// INFO otherwise, target `mvi::access`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), mvi::Error> {
    /// // A service behind a proxy that writes the access log already.
    /// let telemetry = mvi::Telemetry::builder().access_log(false).install()?;
    /// # drop(telemetry);
    /// # Ok(())
    /// # }
    /// ```
    pub fn access_log(mut self, enabled: bool) -> Self {
        self.access_log = enabled;
        self
    }

    /// The log budget, in lines a second (default: `MVI_LOG_RATE_LIMIT`, else 1,000; 0 turns it off).
    /// When more lines are offered, they are sampled by trace: DEBUG and TRACE first, then INFO
    /// (2xx access lines among them), then 4xx access lines down to
    /// [`sample_4xx_ratio`](Self::sample_4xx_ratio) of traces. WARN, ERROR, 5xx access lines and
    /// mvi's own lines are never dropped by the budget; they count toward it.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), mvi::Error> {
    /// // At most 200 lines a second reach the log pipeline; what is dropped is counted in
    /// // `mvi_log_events_sampled_out_total{reason="budget"}`.
    /// let telemetry = mvi::Telemetry::builder().log_rate_limit(200).install()?;
    /// # drop(telemetry);
    /// # Ok(())
    /// # }
    /// ```
    pub fn log_rate_limit(mut self, lines_per_second: u32) -> Self {
        self.log_rate_limit = Some(lines_per_second);
        self
    }

    /// The share of traces whose 4xx access lines are kept while over the log budget (0.0 to 1.0,
    /// default 0.01).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), mvi::Error> {
    /// // Over the budget, keep the 4xx access lines of one trace in ten.
    /// let telemetry = mvi::Telemetry::builder().log_rate_limit(500).sample_4xx_ratio(0.1).install()?;
    /// # drop(telemetry);
    /// # Ok(())
    /// # }
    /// ```
    pub fn sample_4xx_ratio(mut self, ratio: f64) -> Self {
        self.sample_4xx_ratio = ratio;
        self
    }

    /// How long [`Telemetry::shutdown`](crate::Telemetry::shutdown) keeps the application serving after
    /// `/readyz` turns 503, so endpoint controllers take the pod out of rotation before it stops
    /// accepting (default: `MVI_SHUTDOWN_DELAY` in humantime form, like `5s`, else 0).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::time::Duration;
    ///
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), mvi::Error> {
    /// // Kubernetes: keep serving 5 s after SIGTERM while the endpoints controller takes the pod out.
    /// let telemetry = mvi::Telemetry::builder().shutdown_delay(Duration::from_secs(5)).install()?;
    /// mvi::shutdown_signal().await;
    /// telemetry.shutdown().await;
    /// # Ok(())
    /// # }
    /// ```
    pub fn shutdown_delay(mut self, delay: Duration) -> Self {
        self.shutdown_delay = Some(delay);
        self
    }

    /// The longest [`Telemetry::shutdown`](crate::Telemetry::shutdown) waits for requests in flight
    /// (default 30 s).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::time::Duration;
    ///
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), mvi::Error> {
    /// // Long uploads: wait up to two minutes for requests in flight.
    /// let telemetry = mvi::Telemetry::builder().shutdown_timeout(Duration::from_secs(120)).install()?;
    /// mvi::shutdown_signal().await;
    /// telemetry.shutdown().await;
    /// # Ok(())
    /// # }
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Cap on distinct label sets per metric, over every call site that records it, the application's
    /// own `metrics::counter!` included (default 1,000); `#[observe(max_series = n)]` sets one metric's
    /// own. Past it, new sets are recorded as `__overflow__`, `mvi_series_overflow_total{metric}` rises,
    /// and one warning is logged.
    ///
    /// # Examples
    ///
    /// ```standalone_crate
    /// #[mvi::observe(labels(tenant = tenant))]
    /// fn bill(tenant: &str) -> usize {
    ///     tenant.len()
    /// }
    ///
    /// let telemetry = mvi::Telemetry::builder()
    ///     .without_admin_server()
    ///     .without_logs()
    ///     .max_series_per_metric(2)
    ///     .install()
    ///     .unwrap();
    /// for tenant in ["acme", "globex", "initech", "umbrella"] {
    ///     bill(tenant);
    /// }
    /// let scrape = telemetry.render();
    /// assert!(scrape.contains(r#"tenant="__overflow__""#));
    /// assert!(scrape.contains(r#"mvi_series_overflow_total{metric="function_calls_total"}"#));
    /// ```
    pub fn max_series_per_metric(mut self, cap: usize) -> Self {
        self.max_series = cap;
        self
    }

    /// Export spans over OTLP/HTTP to this collector base URL (`/v1/traces` is appended). Without it,
    /// spans are exported when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), mvi::Error> {
    /// let telemetry = mvi::Telemetry::builder()
    ///     .otlp_endpoint("http://otel-collector:4318") // spans to http://otel-collector:4318/v1/traces
    ///     .install()?;
    /// # drop(telemetry);
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "otlp")]
    #[cfg_attr(docsrs, doc(cfg(feature = "otlp")))]
    pub fn otlp_endpoint(mut self, url: impl Into<String>) -> Self {
        self.otlp_endpoint = Some(url.into());
        self
    }

    /// Bucket bounds for a histogram that no macro declares (a `metrics::histogram!` of your own):
    /// finite, positive, strictly increasing, 1 to 64 of them.
    ///
    /// # Examples
    ///
    /// ```standalone_crate
    /// let refused = mvi::Telemetry::builder().histogram_buckets("x_seconds", &[1.0, 0.5]).install();
    /// assert!(matches!(refused, Err(mvi::Error::InvalidBuckets { .. }))); // and nothing changed
    ///
    /// let telemetry = mvi::Telemetry::builder()
    ///     .without_admin_server()
    ///     .without_logs()
    ///     .histogram_buckets("queue_wait_seconds", &[0.1, 1.0, 10.0])
    ///     .install()
    ///     .unwrap();
    /// metrics::histogram!("queue_wait_seconds").record(0.5);
    /// assert!(telemetry.render().contains(r#"queue_wait_seconds_bucket{le="1"} 1"#));
    /// ```
    pub fn histogram_buckets(mut self, name: impl Into<String>, bounds: &[f64]) -> Self {
        self.buckets.push((name.into(), bounds.to_vec()));
        self
    }

    /// Checks every setting and reads the environment; changes nothing.
    pub(crate) fn check(self) -> Result<Config, Error> {
        let mut buckets = Vec::new();
        for (name, bounds) in self.buckets {
            check_buckets(&bounds).map_err(|reason| Error::InvalidBuckets {
                name: name.clone(),
                reason,
            })?;
            // Leaked once per install: histograms keep `&'static` bounds.
            buckets.push((name, &*Vec::leak(bounds)));
        }
        if self.max_series == 0 {
            return Err(invalid("max_series_per_metric must be at least 1"));
        }
        if self.check_timeout.is_zero() {
            return Err(invalid(
                "check_timeout must be longer than zero, or every check fails",
            ));
        }
        for (name, ratio) in [
            ("debug_sample_ratio", self.debug_sample_ratio),
            ("sample_4xx_ratio", self.sample_4xx_ratio),
        ] {
            if !(0.0..=1.0).contains(&ratio) {
                return Err(invalid(format!(
                    "{name} must be within 0.0 and 1.0, not {ratio}"
                )));
            }
        }
        let rate_limit = match (self.log_rate_limit, env("MVI_LOG_RATE_LIMIT")) {
            (Some(limit), _) => limit,
            (None, Some(text)) => text.trim().parse().map_err(|_| {
                invalid(format!(
                    "MVI_LOG_RATE_LIMIT=`{text}` is not a number of lines a second, like `1000` (0: no limit)"
                ))
            })?,
            (None, None) => DEFAULT_RATE_LIMIT,
        };
        let shutdown_delay = match (self.shutdown_delay, env("MVI_SHUTDOWN_DELAY")) {
            (Some(delay), _) => delay,
            (None, Some(text)) => humantime::parse_duration(text.trim()).map_err(|e| {
                invalid(format!(
                    "MVI_SHUTDOWN_DELAY=`{text}` is not a duration like `5s` or `500ms`: {e}"
                ))
            })?,
            (None, None) => Duration::ZERO,
        };
        let logs = match self.logs {
            Some(output) => {
                if tracing::dispatcher::has_been_set() {
                    return Err(invalid(
                        "a `tracing` subscriber is already set; call `without_logs()` to keep yours",
                    ));
                }
                let directives = self
                    .log_filter
                    .or_else(|| env("RUST_LOG"))
                    .unwrap_or_else(|| DEFAULT_FILTER.to_string());
                let filter = LogFilter::new(&directives)
                    .map_err(|e| invalid(format!("invalid log filter `{directives}`: {e}")))?;
                Some((output, filter))
            }
            None => None,
        };
        let admin_addr = if self.serve_admin {
            let text = self
                .admin_addr
                .or_else(|| env("MVI_ADMIN_ADDR"))
                .unwrap_or_else(|| DEFAULT_ADMIN_ADDR.to_string());
            Some(
                text.trim()
                    .parse()
                    .map_err(|_| Error::InvalidAddr { addr: text.clone() })?,
            )
        } else {
            None
        };
        Ok(Config {
            service_name: self.service_name.unwrap_or_else(default_service_name),
            service_version: self.service_version.unwrap_or_else(|| "unknown".into()),
            service_commit: self
                .service_commit
                .filter(|commit| !commit.trim().is_empty())
                .or_else(|| COMMIT_ENV_VARS.iter().find_map(|name| env(name))),
            admin_addr,
            max_series: self.max_series,
            buckets,
            checks: self.checks,
            check_timeout: self.check_timeout,
            check_cache: self.check_cache,
            logs,
            sampling: Sampling {
                debug_sample_ratio: self.debug_sample_ratio,
                rate_limit,
                sample_4xx_ratio: self.sample_4xx_ratio,
            },
            access_log: self.access_log,
            shutdown_delay,
            shutdown_timeout: self.shutdown_timeout,
            #[cfg(feature = "otlp")]
            otlp_endpoint: self.otlp_endpoint,
        })
    }
}

/// `OTEL_SERVICE_NAME`, else the running binary's name (for a one-binary crate, the crate's name;
/// the hash cargo appends to test binaries is dropped).
fn default_service_name() -> String {
    if let Some(name) = env("OTEL_SERVICE_NAME") {
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
