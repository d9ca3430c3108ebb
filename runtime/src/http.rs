//! What `#[traced_handler]` runs around an axum handler: trace context, the server span, RED metrics,
//! response headers and panic handling.

use std::any::Any;
use std::convert::Infallible;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, OnceLock};

use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Request};
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use http::request::Parts;
use http::{HeaderName, HeaderValue, Method, StatusCode};
use metrics::{Key, Label, Level, Metadata};
use tracing::Instrument;
use tracing::field::Empty;

use crate::catalog::MetricDecl;
use crate::context::{Extra, SpanContext, WithContext};
use crate::global::{self, RequestInFlight};
use crate::logging::ACCESS_TARGET;
use crate::series::{self, FixedHistogram, LabelSets, NativeCounter, Store};
use crate::trace_context::{
    self, FLAG_RANDOM, FLAG_SAMPLED, SpanId, TRACEPARENT, TraceId, TraceParent,
};

/// Methods kept as label values; anything else is `_OTHER`, so a client cannot mint label values.
const KNOWN_METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

/// The `method` label and span attribute: the method if standard, else `_OTHER`.
pub(crate) fn method_label(method: &Method) -> &'static str {
    KNOWN_METHODS
        .iter()
        .find(|m| **m == method.as_str())
        .copied()
        .unwrap_or("_OTHER")
}

/// Longest `x-request-id` echoed back; longer or non-printable ids are replaced.
const MAX_REQUEST_ID: usize = 128;

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The caller's `x-request-id` when it is one printable token of at most 128 characters, else a new
/// UUID v4 (from the thread-local generator: no system call per request).
fn request_id(parts: &Parts) -> HeaderValue {
    let mut values = parts.headers.get_all(X_REQUEST_ID).iter();
    match (values.next(), values.next()) {
        (Some(v), None)
            if !v.is_empty()
                && v.len() <= MAX_REQUEST_ID
                && v.as_bytes().iter().all(|b| (0x21..=0x7e).contains(b)) =>
        {
            v.clone()
        }
        _ => {
            let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
            let mut buf = uuid::Uuid::encode_buffer();
            HeaderValue::from_str(id.hyphenated().encode_lower(&mut buf))
                .expect("a UUID is a valid header value")
        }
    }
}

/// The trace id's digits in a `traceparent`.
fn trace_id_text(traceparent: &[u8; trace_context::LEN]) -> &str {
    std::str::from_utf8(&traceparent[3..35]).unwrap_or_default()
}

/// The span id's digits in a `traceparent`.
fn span_id_text(traceparent: &[u8; trace_context::LEN]) -> &str {
    std::str::from_utf8(&traceparent[36..52]).unwrap_or_default()
}

/// A request id as text: visible ASCII only, checked in `request_id`.
fn request_id_str(id: &HeaderValue) -> &str {
    id.to_str().unwrap_or_default()
}

/// The span name: `"{method} {route}"`, written when the span is recorded, not per request.
struct SpanName<'a>(&'static str, &'a str);

impl std::fmt::Display for SpanName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.0, self.1) {
            ("_OTHER", _) => f.write_str("HTTP"),
            (m, "") => f.write_str(m),
            (m, r) => write!(f, "{m} {r}"),
        }
    }
}

/// Everything `#[traced_handler]` needs from the request, taken before the handler's own extractors.
#[derive(Debug)]
pub struct RequestContext {
    method: &'static str,
    route: Option<MatchedPath>,
    parent: Option<(TraceParent, Option<String>)>,
    request_id: HeaderValue,
    /// A tick of the TSC clock (`series::clock`), as `#[observe]` times calls.
    start: u64,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestContext {
            method: method_label(&parts.method),
            route: parts.extensions.get::<MatchedPath>().cloned(),
            parent: trace_context::extract(&parts.headers),
            request_id: request_id(parts),
            start: series::clock().raw(),
        })
    }
}

/// One `#[traced_handler]`: its metric declarations and cached series.
#[derive(Debug)]
pub struct HandlerSite {
    requests: &'static MetricDecl,
    duration: &'static MetricDecl,
    series: OnceLock<LabelSets<&'static RedSeries>>,
}

/// The series of one (method, route, status).
#[derive(Debug)]
struct RedSeries {
    requests: Arc<NativeCounter>,
    duration: Arc<FixedHistogram>,
}

static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

const LABELS: [&str; 3] = ["method", "route", "status"];

impl HandlerSite {
    #[doc(hidden)]
    pub const fn new(requests: &'static MetricDecl, duration: &'static MetricDecl) -> Self {
        HandlerSite {
            requests,
            duration,
            series: OnceLock::new(),
        }
    }

    /// Opens the server span for a request.
    pub fn begin(&'static self, request: RequestContext) -> InFlight {
        let RequestContext {
            method,
            route,
            parent,
            request_id,
            start,
        } = request;
        let route_text = route.as_ref().map_or("", MatchedPath::as_str);
        let (trace_id, flags, parent_id, tracestate) = match parent {
            Some((p, state)) => (p.trace_id, p.flags, Some(p.parent_id), state),
            None => (TraceId::random(), FLAG_SAMPLED | FLAG_RANDOM, None, None),
        };
        let span_id = SpanId::random();
        // The ids' text, as the response's `traceparent` will have them.
        let mut child = TraceParent::child_bytes(trace_id, span_id, flags);
        // Without export the ids are known now, and given at creation rather than recorded after.
        let known = !crate::otel::exporting();
        let span = tracing::info_span!(
            target: "mvi::http",
            "request",
            otel.name = %SpanName(method, route_text),
            otel.kind = "server",
            otel.status_code = Empty,
            http.request.method = method,
            http.route = route_text,
            http.response.status_code = Empty,
            error.type = Empty,
            trace_id = known.then(|| trace_id_text(&child)),
            span_id = known.then(|| span_id_text(&child)),
            parent_span_id = parent_id.map(tracing::field::display),
            request_id = request_id_str(&request_id),
        );
        let (trace_id, span_id) = crate::otel::link(
            &span,
            trace_id,
            span_id,
            parent_id,
            flags,
            tracestate.as_deref(),
        );
        if !known {
            child = TraceParent::child_bytes(trace_id, span_id, flags);
            span.record("trace_id", trace_id_text(&child));
            span.record("span_id", span_id_text(&child));
        }
        InFlight {
            site: self,
            method,
            route,
            request_id,
            start,
            tracestate: tracestate.map(Arc::from),
            span,
            trace_id,
            span_id,
            flags,
            _counted: global::request_started(),
        }
    }

    /// Records one response: in the store once installed, with the request's trace as exemplar when it
    /// is sampled, else through whatever `metrics` recorder is current (a test's, say).
    fn record(
        &'static self,
        method: &'static str,
        route: &str,
        status: StatusCode,
        (nanos, end): (u64, u64),
        cx: SpanContext,
    ) {
        let Some(installed) = global::installed() else {
            let labels = vec![
                Label::from_static_parts("method", method),
                Label::new("route", route.to_string()),
                Label::new("status", status.as_str().to_string()),
            ];
            metrics::with_recorder(|r| {
                let key = |decl: &MetricDecl| Key::from_parts(decl.name, labels.clone());
                r.register_counter(&key(self.requests), &METADATA)
                    .increment(1);
                r.register_histogram(&key(self.duration), &METADATA)
                    .record(nanos as f64 * 1e-9);
            });
            return;
        };
        let store = &installed.store;
        let series = self.series.get_or_init(LabelSets::new).get(
            store,
            self.requests.name,
            &[method, route, status.as_str()],
            |values| Box::leak(Box::new(self.make_series(store, values))),
        );
        // The request's own end tick times an exemplar, if the trace is sampled.
        let traced = series::in_trace(Some(cx), || end);
        series.requests.add(1, traced.as_ref());
        series.duration.record_nanos(nanos, traced.as_ref());
    }

    fn make_series(&self, store: &Store, values: &[&str]) -> RedSeries {
        let key = |decl: &MetricDecl| crate::label::key(decl.name, &LABELS, values);
        RedSeries {
            requests: store.counter(&key(self.requests)),
            duration: store.histogram(&key(self.duration), self.duration.buckets),
        }
    }
}

/// A request being handled.
#[derive(Debug)]
pub struct InFlight {
    site: &'static HandlerSite,
    method: &'static str,
    route: Option<MatchedPath>,
    request_id: HeaderValue,
    /// When the request started, a tick of `series::clock`.
    start: u64,
    /// The caller's `tracestate`, carried on into outgoing calls.
    tracestate: Option<Arc<str>>,
    span: tracing::Span,
    trace_id: TraceId,
    span_id: SpanId,
    flags: u8,
    /// Counts the request until the response is recorded (or the handler's future is dropped).
    _counted: RequestInFlight,
}

impl InFlight {
    /// The request's trace and server span.
    fn context(&self) -> SpanContext {
        SpanContext {
            trace_id: self.trace_id,
            span_id: self.span_id,
            flags: self.flags,
        }
    }

    /// Runs the handler's body inside the server span; a panic becomes a 500 response.
    pub async fn run<R>(self, body: impl Future<Output = R>) -> Traced<R> {
        let cx = self.context();
        // The caller's `tracestate` goes on with the trace, into outgoing calls.
        let extra = Extra {
            tracestate: self.tracestate.clone(),
            remote: false,
        };
        // Each poll inside the server span, and the body dropped inside it too if the request is
        // abandoned (`Instrument` enters the span on drop).
        let outcome = WithContext::new(AssertUnwindSafe(body).catch_unwind(), Some(cx), extra)
            .instrument(self.span.clone())
            .await;
        let outcome = outcome.map_err(|payload| {
            let message = panic_message(&*payload);
            self.span
                .in_scope(|| tracing::error!(panic = %message, "handler panicked; answering 500"));
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        });
        Traced {
            outcome,
            flight: self,
        }
    }

    /// An extractor rejected the request: its rejection is the response, recorded like any other.
    pub fn rejected<R>(self, rejection: Response) -> Traced<R> {
        self.span.in_scope(|| {
            tracing::debug!(
                status = rejection.status().as_u16(),
                "request rejected by an extractor"
            );
        });
        Traced {
            outcome: Err(rejection),
            flight: self,
        }
    }
}

/// A handler argument other than the last: the extractor's rejection is kept as a response instead of
/// answering before the handler runs, so `#[traced_handler]` records rejected requests too.
#[derive(Debug)]
pub struct Extract<T>(pub Result<T, Response>);

impl<S: Send + Sync, T: FromRequestParts<S>> FromRequestParts<S> for Extract<T> {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let extracted = T::from_request_parts(parts, state).await;
        Ok(Extract(extracted.map_err(IntoResponse::into_response)))
    }
}

/// The last handler argument (it may read the body), kept like [`Extract`].
#[derive(Debug)]
pub struct ExtractLast<T>(pub Result<T, Response>);

/// The extraction path of [`ExtractLast`]: the wrapped extractor's own.
#[derive(Debug)]
pub struct ViaInner<M>(PhantomData<M>);

impl<S: Send + Sync, M, T: FromRequest<S, M>> FromRequest<S, ViaInner<M>> for ExtractLast<T> {
    type Rejection = Infallible;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let extracted = T::from_request(request, state).await;
        Ok(ExtractLast(extracted.map_err(IntoResponse::into_response)))
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".into())
}

/// A handler's response, recorded when axum turns it into a response: the status goes into the span
/// and the metrics, and `traceparent` and `x-request-id` are added.
#[derive(Debug)]
pub struct Traced<R> {
    /// The handler's response, or the one sent instead (a panic's 500, an extractor's rejection).
    outcome: Result<R, Response>,
    flight: InFlight,
}

impl<R: IntoResponse> IntoResponse for Traced<R> {
    fn into_response(self) -> Response {
        let Traced { outcome, flight } = self;
        let mut response = match outcome {
            Ok(r) => r.into_response(),
            Err(instead) => instead,
        };
        let status = response.status();
        let clock = series::clock();
        let end = clock.raw();
        let nanos = clock.delta_as_nanos(flight.start, end);
        let span = &flight.span;
        span.record("http.response.status_code", i64::from(status.as_u16()));
        if status.is_server_error() {
            span.record("error.type", status.as_str());
            span.record("otel.status_code", "ERROR");
        }
        let route = flight.route.as_ref().map_or("", MatchedPath::as_str);
        let cx = flight.context();
        flight
            .site
            .record(flight.method, route, status, (nanos, end), cx);
        if global::access_log() {
            let seconds = nanos as f64 * 1e-9;
            span.in_scope(|| access_line(flight.method, route, status, seconds));
        }
        let headers = response.headers_mut();
        headers.insert(
            TRACEPARENT,
            TraceParent::child_header(flight.trace_id, flight.span_id, flight.flags),
        );
        headers.insert(X_REQUEST_ID, flight.request_id);
        response
    }
}

/// The access line of one request, inside its server span so it carries the request's ids: ERROR
/// for a 5xx status, INFO otherwise. The log budget reads `status` to tell 4xx lines from others.
fn access_line(method: &str, route: &str, status: StatusCode, seconds: f64) {
    let status = status.as_u16();
    let duration_ms = (seconds * 1e6).round() / 1e3;
    if status >= 500 {
        tracing::error!(target: ACCESS_TARGET, method, route, status, duration_ms, "request");
    } else {
        tracing::info!(target: ACCESS_TARGET, method, route, status, duration_ms, "request");
    }
}

/// Reports a handler future that is not `Send` at the handler, not deep inside axum's bounds.
#[inline(always)]
pub fn assert_send<F: Future + Send>(future: F) -> F {
    future
}
