//! Outgoing HTTP calls: a client span, the trace headers, and client RED metrics, for `reqwest`
//! (feature `reqwest`: `Middleware`, a `reqwest-middleware` middleware) and for tower-based clients
//! such as hyper-util's and tonic's channels ([`Layer`]).
//!
//! Each call gets a client span, a child of the current context (`mvi::context::current()`: the
//! request being served, the `#[observe(span)]` call), named after the method, with
//! `http.request.method`, `server.address`, `server.port`, `url.full` (without credentials, query or
//! fragment), `http.response.status_code` and `error.type` (error status for a failure, 4xx or 5xx, as
//! the OpenTelemetry conventions say for client spans). The request carries `traceparent` (this trace,
//! the client span's id, the flags as they are) and `tracestate`, so the next service continues the
//! trace; its server span's parent is the client span. Each call is counted in
//! `http_client_requests_total` and timed in `http_client_request_duration_seconds`, labelled
//! `method`, `server_address`, `status` (the response's code, `none` when none came) and `error_type`
//! (empty; or what failed: `timeout`, `connect`, `request`, `body`, `decode`, `redirect`, `builder`,
//! `middleware`, `cancelled`, `_OTHER`; or the code of a 5xx answer), under the per-metric cap on label
//! sets. Errors and responses are handed to the caller unchanged.
//!
//! The metrics are declared in the catalog (`mvi::catalog()`), so `/metrics` has their HELP and TYPE
//! and the metric contract lists them; they are recorded once mvi is installed.

mod layer;
#[cfg(feature = "reqwest")]
mod reqwest;

use std::sync::{Arc, OnceLock};

use http::{HeaderMap, Method, StatusCode};
use tracing::field::Empty;

use crate::catalog::{CATALOG, Location, MetricDecl, MetricKind};
use crate::context::{self, Extra, SpanContext};
use crate::global;
use crate::series::{DEFAULT_BUCKETS, FixedHistogram, LabelSets, NativeCounter, Recent};
use crate::span::Child;
use crate::text::SmallText;

pub use layer::{Layer, LayerFuture, Service};
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub use reqwest::Middleware;

/// The name of the client call counter.
///
/// # Examples
///
/// ```
/// let calls = mvi::catalog().get(mvi::client::REQUESTS_METRIC).unwrap();
/// assert_eq!(calls.name, "http_client_requests_total");
/// ```
pub const REQUESTS_METRIC: &str = "http_client_requests_total";
/// The name of the client call duration histogram.
///
/// # Examples
///
/// ```
/// let duration = mvi::catalog().get(mvi::client::DURATION_METRIC).unwrap();
/// assert_eq!(duration.kind, mvi::MetricKind::Histogram);
/// ```
pub const DURATION_METRIC: &str = "http_client_request_duration_seconds";

const LABELS: [&str; 4] = ["method", "server_address", "status", "error_type"];

const fn location(line: u32) -> Location {
    Location {
        file: file!(),
        line,
        column: 1,
        function: "mvi::client",
        module: module_path!(),
    }
}

#[linkme::distributed_slice(CATALOG)]
static REQUESTS: MetricDecl = MetricDecl {
    name: REQUESTS_METRIC,
    kind: MetricKind::Counter,
    help: "Outgoing HTTP requests, by method, server, status and error type.",
    unit: "",
    labels: &LABELS,
    typed_labels: &[],
    typed_values: &[],
    buckets: &[],
    series: &[],
    max_series: None,
    location: location(line!()),
};

#[linkme::distributed_slice(CATALOG)]
static DURATION: MetricDecl = MetricDecl {
    name: DURATION_METRIC,
    kind: MetricKind::Histogram,
    help: "Outgoing HTTP request duration in seconds, by method, server, status and error type.",
    unit: "seconds",
    labels: &LABELS,
    typed_labels: &[],
    typed_values: &[],
    buckets: DEFAULT_BUCKETS,
    series: &[],
    max_series: None,
    location: location(line!()),
};

/// The series of one label set.
#[derive(Debug)]
struct Series {
    requests: Arc<NativeCounter>,
    duration: Arc<FixedHistogram>,
}

/// Every label set seen, capped by the store.
static SERIES: OnceLock<LabelSets<&'static Series>> = OnceLock::new();
/// The label sets of the usual calls, by status.
static RECENT: Recent<&'static Series> = Recent::new();

/// Records one call, `status` its status code (0 for none) and `labels` its label values.
fn record(status: u16, labels: [&str; 4], nanos: u64) {
    let Some(installed) = global::installed() else {
        return;
    };
    let store = &installed.store;
    let series = RECENT.get(usize::from(status), &labels, || {
        SERIES
            .get_or_init(LabelSets::new)
            .get(store, REQUESTS.name, &labels, |values| {
                let key = |decl: &MetricDecl| crate::label::key(decl.name, &LABELS, values);
                // Capped by the store, so one leaked set of handles per label set is bounded memory.
                Box::leak(Box::new(Series {
                    requests: store.counter(&key(&REQUESTS)),
                    duration: store.histogram(&key(&DURATION), DURATION.buckets),
                }))
            })
    });
    // Exemplars of the caller's trace, when it is sampled.
    let at = crate::series::in_trace_now();
    series.requests.add(1, at.as_ref());
    series.duration.record_nanos(nanos, at.as_ref());
}

/// Where a call goes, as the URL says.
pub(crate) struct Target<'a> {
    pub(crate) scheme: &'a str,
    pub(crate) host: &'a str,
    /// The explicit port, else the scheme's.
    pub(crate) port: Option<u16>,
    /// Whether the URL wrote the port out.
    pub(crate) explicit_port: bool,
    pub(crate) path: &'a str,
}

/// `url.full` without credentials, query or fragment; written only where a layer wants the text.
impl std::fmt::Display for Target<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.explicit_port, self.port) {
            (true, Some(port)) => write!(f, "{}://{}:{port}{}", self.scheme, self.host, self.path),
            _ => write!(f, "{}://{}{}", self.scheme, self.host, self.path),
        }
    }
}

/// The host a call goes to, kept for its `server_address` label: inline when short, as most are, so a
/// call allocates nothing for it.
type Host = SmallText<62>;

/// One outgoing call: its span and what its metrics need. Recorded as `cancelled` if dropped before
/// [`finish`](Call::finish) (the caller stopped waiting).
#[derive(Debug)]
pub(crate) struct Call {
    span: tracing::Span,
    cx: SpanContext,
    extra: Extra,
    method: &'static str,
    server: Host,
    /// The TSC clock and its reading at the start, once mvi is installed (metrics are recorded
    /// only then).
    start: Option<(&'static quanta::Clock, u64)>,
    finished: bool,
}

impl Call {
    /// Opens the client span, a child of the current context.
    pub(crate) fn begin(method: &Method, target: &Target<'_>) -> Call {
        let method = crate::http::method_label(method);
        let span = tracing::info_span!(
            target: crate::logging::CLIENT_TARGET,
            "client",
            otel.name = if method == "_OTHER" { "HTTP" } else { method },
            otel.kind = "client",
            otel.status_code = Empty,
            http.request.method = method,
            server.address = target.host,
            server.port = target.port.map(i64::from),
            url.full = tracing::field::display(target),
            http.response.status_code = Empty,
            error.type = Empty,
        );
        // No `trace_id`/`span_id` fields: no code of the application runs in a client span, so no
        // log line needs them, and the exported ids are read back all the same. Under mvi's
        // subscriber without an exporter the span is not made at all (its filter disables the
        // target: nothing would read it); the call's ids are mvi's either way.
        let (cx, extra) = Child::of(context::current(), &Extra::current()).link(&span, false);
        Call {
            span,
            cx,
            extra,
            method,
            server: Host::new(target.host),
            start: global::installed().map(|i| (&i.clock, i.clock.raw())),
            finished: false,
        }
    }

    /// Writes `traceparent` (the client span as the parent) and `tracestate` into the request.
    pub(crate) fn inject(&self, headers: &mut HeaderMap) {
        crate::propagation::insert(headers, self.cx, self.extra.tracestate.as_deref());
    }

    /// The call ended: with a response (`status`), or with a failure (`error_type`).
    pub(crate) fn finish(&mut self, status: Option<StatusCode>, failure: Option<&'static str>) {
        self.finished = true;
        let code = status.as_ref().map_or("none", StatusCode::as_str);
        if let Some(status) = status {
            self.span
                .record("http.response.status_code", i64::from(status.as_u16()));
        }
        let span_error = failure.or_else(|| {
            status
                .filter(|s| s.is_client_error() || s.is_server_error())
                .map(|_| code)
        });
        if let Some(error) = span_error {
            self.span.record("otel.status_code", "ERROR");
            self.span.record("error.type", error);
        }
        let error_type = failure.unwrap_or(match status {
            Some(s) if s.is_server_error() => code,
            _ => "",
        });
        if let Some((clock, start)) = self.start {
            let nanos = clock.delta_as_nanos(start, clock.raw());
            let key = status.map_or(0, |s| s.as_u16());
            record(
                key,
                [self.method, self.server.as_str(), code, error_type],
                nanos,
            );
        }
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        if !self.finished {
            self.finish(None, Some("cancelled"));
        }
    }
}

/// `error.type` of a failed call: what the error (or the first error in its chain that says) is.
pub(crate) fn error_type(error: &(dyn std::error::Error + 'static)) -> &'static str {
    let mut next = Some(error);
    while let Some(e) = next {
        #[cfg(feature = "reqwest")]
        if let Some(e) = e.downcast_ref::<::reqwest::Error>() {
            return reqwest::error_type(e);
        }
        if let Some(e) = e.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            match e.kind() {
                TimedOut => return "timeout",
                ConnectionRefused | ConnectionReset | ConnectionAborted | NotConnected
                | AddrNotAvailable | HostUnreachable | NetworkUnreachable => return "connect",
                _ => {}
            }
        }
        if e.to_string().contains("timed out") {
            return "timeout";
        }
        next = e.source();
    }
    "_OTHER"
}
