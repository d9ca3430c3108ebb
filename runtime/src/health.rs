//! Health checks behind `/healthz` and `/readyz`.
//!
//! Checks run concurrently, each bounded by a timeout; a check that panics or hangs is a failed check,
//! never a crashed server. The report is cached briefly and computed by one probe at a time, so a storm
//! of probes runs each check once. Durations and results are also metrics.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use serde::Serialize;

type CheckFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
type CheckFn = Arc<dyn Fn() -> CheckFuture + Send + Sync>;

/// One registered check.
#[derive(Clone)]
pub(crate) struct Check {
    pub(crate) name: String,
    run: CheckFn,
}

impl std::fmt::Debug for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Check")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Check {
    pub(crate) fn new<F, Fut, E>(name: String, check: F) -> Check
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Display,
    {
        let run: CheckFn = Arc::new(move || {
            let fut = check();
            Box::pin(async move { fut.await.map_err(|e| e.to_string()) })
        });
        Check { name, run }
    }
}

/// The result of one check, as `/healthz` shows it.
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
/// let cache: &mvi::CheckResult = &report.checks["cache"];
/// assert_eq!(cache.status, "fail");
/// assert_eq!(cache.error.as_deref(), Some("connection refused"));
/// assert!(cache.duration_ms >= 0.0);
/// # }
/// ```
#[derive(Clone, Debug, Serialize)]
pub struct CheckResult {
    /// `ok` or `fail`.
    pub status: &'static str,
    /// How long the check took, in milliseconds.
    pub duration_ms: f64,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The body of `/healthz` and `/readyz`.
///
/// # Examples
///
/// ```standalone_crate
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let telemetry = mvi::Telemetry::builder()
///     .without_admin_server()
///     .without_logs()
///     .readiness_check("database", || async { Ok::<(), String>(()) })
///     .install()
///     .unwrap();
/// let report: mvi::HealthReport = telemetry.health().await;
/// assert_eq!(report.status, "ok");
/// let body = serde_json::to_value(&report).unwrap(); // the body of `/healthz`
/// assert_eq!(body["checks"]["database"]["status"], "ok");
/// # }
/// ```
#[derive(Clone, Debug, Serialize)]
pub struct HealthReport {
    /// `ok` when every check passed (and, for readiness, the service is not shutting down).
    pub status: &'static str,
    /// Each check by name.
    pub checks: BTreeMap<String, CheckResult>,
}

impl HealthReport {
    /// Whether the report is healthy.
    ///
    /// # Examples
    ///
    /// ```standalone_crate
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let telemetry = mvi::Telemetry::builder().without_admin_server().without_logs().install().unwrap();
    /// assert!(telemetry.health().await.is_ok()); // no checks: healthy
    /// # }
    /// ```
    pub fn is_ok(&self) -> bool {
        self.status == "ok"
    }
}

/// The registered checks, their cache and the readiness flag.
#[derive(Debug)]
pub(crate) struct Health {
    checks: Vec<Check>,
    timeout: Duration,
    cache_ttl: Duration,
    cached: tokio::sync::Mutex<Option<(Instant, HealthReport)>>,
    shutting_down: AtomicBool,
}

const DURATION: &str = "mvi_health_check_duration_seconds";
const UP: &str = "mvi_health_check_up";

impl Health {
    pub(crate) fn new(checks: Vec<Check>, timeout: Duration, cache_ttl: Duration) -> Health {
        Health {
            checks,
            timeout,
            cache_ttl,
            cached: tokio::sync::Mutex::new(None),
            shutting_down: AtomicBool::new(false),
        }
    }

    pub(crate) fn describe(recorder: &dyn metrics::Recorder) {
        recorder.describe_histogram(
            DURATION.into(),
            None,
            "Duration of health checks, in seconds.".into(),
        );
        recorder.describe_gauge(
            UP.into(),
            None,
            "Whether the last run of a health check passed (1) or failed (0).".into(),
        );
    }

    pub(crate) fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
    }

    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    /// The current report: cached if fresh, otherwise computed once for every waiting probe.
    pub(crate) async fn report(&self) -> HealthReport {
        let mut cached = self.cached.lock().await;
        if let Some((at, report)) = cached.as_ref() {
            if at.elapsed() < self.cache_ttl {
                return report.clone();
            }
        }
        let results = futures_util::future::join_all(self.checks.iter().map(|c| self.run(c))).await;
        let checks: BTreeMap<String, CheckResult> = results.into_iter().collect();
        let status = if checks.values().all(|c| c.status == "ok") {
            "ok"
        } else {
            "fail"
        };
        let report = HealthReport { status, checks };
        *cached = Some((Instant::now(), report.clone()));
        report
    }

    async fn run(&self, check: &Check) -> (String, CheckResult) {
        let start = Instant::now();
        let outcome = AssertUnwindSafe((check.run)()).catch_unwind();
        let error = match tokio::time::timeout(self.timeout, outcome).await {
            Ok(Ok(Ok(()))) => None,
            Ok(Ok(Err(e))) => Some(e),
            Ok(Err(_panic)) => Some("check panicked".to_string()),
            Err(_) => Some(format!("timed out after {} ms", self.timeout.as_millis())),
        };
        let elapsed = start.elapsed();
        let labels = [("check", check.name.clone())];
        metrics::histogram!(DURATION, &labels).record(elapsed.as_secs_f64());
        metrics::gauge!(UP, &labels).set(if error.is_none() { 1.0 } else { 0.0 });
        if let Some(e) = &error {
            tracing::warn!(check = %check.name, error = %e, "health check failed");
        }
        let result = CheckResult {
            status: if error.is_none() { "ok" } else { "fail" },
            duration_ms: (elapsed.as_secs_f64() * 1e6).round() / 1e3,
            error,
        };
        (check.name.clone(), result)
    }
}
