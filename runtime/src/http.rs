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
use futures_util::FutureExt as _;
use futures_util::future::{self, Either};
use http::request::Parts;
use http::{HeaderName, HeaderValue, Method, StatusCode};
use metrics::{Key, Label, Level, Metadata};
use tracing::field::Empty;

use crate::catalog::MetricDecl;
use crate::context::{self, Extra, Finish, Scope, SpanContext};
use crate::global::{self, RequestInFlight};
use crate::logging::{self, ACCESS_TARGET};
use crate::series::{self, FixedHistogram, LabelSets, NativeCounter, Recent, Store};
use crate::span::Child;
use crate::trace_context::{self, TRACEPARENT, TRACESTATE, TraceParent};

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

/// A request's id: the caller's `x-request-id` when it is one printable token of at most 128
/// characters, else a new UUID v4 (from the thread-local generator: no system call per request).
#[derive(Debug)]
enum RequestId {
    /// The caller's, checked: visible ASCII only.
    Given(HeaderValue),
    /// A UUID made here, as its hyphenated lowercase text; a header value only once the response
    /// needs it.
    Made([u8; 36]),
}

impl RequestId {
    /// The caller's id (the request's only `x-request-id`, if it is one), else a new one.
    fn of(given: Option<&HeaderValue>) -> RequestId {
        match given {
            Some(v)
                if !v.is_empty()
                    && v.len() <= MAX_REQUEST_ID
                    && v.as_bytes().iter().all(|b| (0x21..=0x7e).contains(b)) =>
            {
                RequestId::Given(v.clone())
            }
            _ => {
                let random = trace_context::random_u128().to_le_bytes();
                RequestId::Made(hyphenated(
                    uuid::Builder::from_random_bytes(random).into_uuid(),
                ))
            }
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            RequestId::Given(v) => v.as_bytes(),
            RequestId::Made(text) => text,
        }
    }

    fn into_header(self) -> HeaderValue {
        match self {
            RequestId::Given(v) => v,
            RequestId::Made(text) => {
                HeaderValue::from_bytes(&text).expect("a UUID is a valid header value")
            }
        }
    }
}

/// A UUID's hyphenated text, `8-4-4-4-12` lowercase digits, written a group at a time.
fn hyphenated(id: uuid::Uuid) -> [u8; 36] {
    let mut text = [b'-'; 36];
    let v = id.as_u128();
    for (range, shift) in [
        (0..8, 96),
        (9..13, 80),
        (14..18, 64),
        (19..23, 48),
        (24..36, 0),
    ] {
        trace_context::write_hex(&mut text[range], v >> shift);
    }
    text
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Visible ASCII only, checked or made so.
        f.write_str(std::str::from_utf8(self.as_bytes()).unwrap_or_default())
    }
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
    request_id: RequestId,
    /// A tick of the TSC clock (`series::clock`), as `#[observe]` times calls.
    start: u64,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = Infallible;

    // Read at once, not in a state machine of its own: nothing here waits.
    fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
        future::ready(Ok(RequestContext::of(parts)))
    }
}

impl RequestContext {
    fn of(parts: &Parts) -> RequestContext {
        let start = series::clock().raw();
        let found = Found::in_headers(&parts.headers);
        RequestContext {
            method: method_label(&parts.method),
            route: parts.extensions.get::<MatchedPath>().cloned(),
            parent: found.traceparent.only().and_then(|traceparent| {
                trace_context::parent_and_state(traceparent, &parts.headers, found.tracestate)
            }),
            request_id: RequestId::of(found.request_id.only()),
            start,
        }
    }
}

/// The headers `#[traced_handler]` reads, found in one pass over the request's (a lookup by name
/// hashes the name, and there would be three; a request has a few headers).
#[derive(Default)]
struct Found<'a> {
    traceparent: Single<'a>,
    request_id: Single<'a>,
    tracestate: bool,
}

impl<'a> Found<'a> {
    fn in_headers(headers: &'a http::HeaderMap) -> Found<'a> {
        let mut found = Found::default();
        for (name, value) in headers {
            if *name == TRACEPARENT {
                found.traceparent.see(value);
            } else if *name == X_REQUEST_ID {
                found.request_id.see(value);
            } else if *name == TRACESTATE {
                found.tracestate = true;
            }
        }
        found
    }
}

/// A header that counts only when it comes once.
#[derive(Default)]
enum Single<'a> {
    #[default]
    Absent,
    Once(&'a HeaderValue),
    Repeated,
}

impl<'a> Single<'a> {
    fn see(&mut self, value: &'a HeaderValue) {
        *self = match self {
            Single::Absent => Single::Once(value),
            _ => Single::Repeated,
        };
    }

    fn only(&self) -> Option<&'a HeaderValue> {
        match self {
            Single::Once(value) => Some(value),
            _ => None,
        }
    }
}

/// One `#[traced_handler]`: its metric declarations and cached series.
#[derive(Debug)]
pub struct HandlerSite {
    requests: &'static MetricDecl,
    duration: &'static MetricDecl,
    series: OnceLock<LabelSets<&'static RedSeries>>,
    /// The series of the responses a handler gives most.
    recent: Recent<&'static RedSeries>,
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
            recent: Recent::new(),
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
        // The server span: a child of the caller's span, or the root of a new trace.
        let child = Child::remote(parent);
        let parent_id = child.parent.map(|(id, _)| id);
        let known = child.known_ids();
        let span = logging::span_with_ids(known, Some(request_id.as_bytes()), || {
            tracing::info_span!(
                target: "mvi::http",
                "request",
                otel.name = %SpanName(method, route_text),
                otel.kind = "server",
                otel.status_code = Empty,
                http.request.method = method,
                http.route = route_text,
                http.response.status_code = Empty,
                error.type = Empty,
                trace_id = known.map(|(t, _)| display(t)),
                span_id = known.map(|(_, s)| display(s)),
                parent_span_id = parent_id.map(display),
                request_id = %request_id,
            )
        });
        let (cx, extra) = child.link(&span, known.is_none());
        InFlight {
            site: self,
            method,
            route,
            request_id: Some(request_id),
            start,
            extra,
            span,
            cx,
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
        let values = [method, route, status.as_str()];
        let series = self.recent.get(usize::from(status.as_u16()), &values, || {
            let store = &installed.store;
            self.series.get_or_init(LabelSets::new).get(
                store,
                self.requests.name,
                &values,
                |values| Box::leak(Box::new(self.make_series(store, values))),
            )
        });
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
    /// Until the response takes it.
    request_id: Option<RequestId>,
    /// When the request started, a tick of `series::clock`.
    start: u64,
    /// The caller's `tracestate`, carried on into outgoing calls.
    extra: Extra,
    span: tracing::Span,
    /// The request's trace and server span.
    cx: SpanContext,
    /// Counts the request until the response is recorded (or the handler's future is dropped).
    _counted: RequestInFlight,
}

impl Scope for InFlight {
    fn parts(&mut self) -> (&tracing::Span, Option<SpanContext>, &mut Extra) {
        (&self.span, Some(self.cx), &mut self.extra)
    }
}

impl InFlight {
    /// Runs the handler's body inside the server span and the request's context, and answers with its
    /// response, recorded; a panic answers 500. `Err` is an extractor's rejection (boxed: rare, and
    /// kept out of the size of every handler's future), answered instead of running the body.
    pub fn run<F>(self, body: Result<F, Box<Response>>) -> impl Future<Output = Response> + use<F>
    where
        F: Future<Output: Answer>,
    {
        let body = match body {
            Ok(body) => Either::Left(
                AssertUnwindSafe(body)
                    .catch_unwind()
                    .map(|outcome| outcome.map_err(Failure::Panicked)),
            ),
            Err(rejection) => Either::Right(future::ready(Err(Failure::Rejected(rejection)))),
        };
        context::scoped(self, body)
    }
}

impl<R: Answer> Finish<Result<R, Failure>> for InFlight {
    type Output = Response;

    fn finish(&mut self, outcome: Result<R, Failure>) -> Response {
        let response = match outcome {
            Ok(response) => response.answer(),
            Err(Failure::Panicked(payload)) => {
                let message = panic_message(&*payload);
                self.span.in_scope(|| {
                    tracing::error!(panic = %message, "handler panicked; answering 500");
                });
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
            Err(Failure::Rejected(rejection)) => {
                self.span.in_scope(|| {
                    tracing::debug!(
                        status = rejection.status().as_u16(),
                        "request rejected by an extractor"
                    );
                });
                *rejection
            }
        };
        self.respond(response)
    }
}

/// What a `#[traced_handler]` may return: anything axum answers with.
#[diagnostic::on_unimplemented(
    message = "`#[traced_handler]` answers with what the handler returns, and `{Self}` is not a response (`axum::response::IntoResponse`)",
    label = "not a response",
    note = "return what axum answers with: `String`, `&'static str`, `StatusCode`, `Json<T>`, `Html<T>`, a tuple of parts and a response, `Result<T, E>` of such types, or `impl IntoResponse`"
)]
pub trait Answer {
    /// The response.
    fn answer(self) -> Response;
}

impl<T: IntoResponse> Answer for T {
    fn answer(self) -> Response {
        self.into_response()
    }
}

/// Why a handler's body gave no response of its own.
#[doc(hidden)]
#[derive(Debug)]
pub enum Failure {
    Panicked(Box<dyn Any + Send>),
    Rejected(Box<Response>),
}

/// A handler argument other than the last: the extractor's rejection is kept as a response instead of
/// answering before the handler runs, so `#[traced_handler]` records rejected requests too.
#[derive(Debug)]
pub struct Extract<T>(pub Result<T, Response>);

impl<S: Send + Sync, T: FromRequestParts<S>> FromRequestParts<S> for Extract<T> {
    type Rejection = Infallible;

    fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
        T::from_request_parts(parts, state)
            .map(|extracted| Ok(Extract(extracted.map_err(IntoResponse::into_response))))
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

    // The wrapped extractor's future, mapped: no state machine of its own to move the request into.
    fn from_request(
        request: Request,
        state: &S,
    ) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
        T::from_request(request, state)
            .map(|extracted| Ok(ExtractLast(extracted.map_err(IntoResponse::into_response))))
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".into())
}

impl InFlight {
    /// The response to the request: its status goes into the span and the metrics (and the access
    /// line), and `traceparent` and `x-request-id` are added.
    fn respond(&mut self, mut response: Response) -> Response {
        let status = response.status();
        let clock = series::clock();
        let end = clock.raw();
        let nanos = clock.delta_as_nanos(self.start, end);
        let span = &self.span;
        span.record("http.response.status_code", i64::from(status.as_u16()));
        if status.is_server_error() {
            span.record("error.type", status.as_str());
            span.record("otel.status_code", "ERROR");
        }
        let route = self.route.as_ref().map_or("", MatchedPath::as_str);
        self.site
            .record(self.method, route, status, (nanos, end), self.cx);
        if global::access_log() {
            let seconds = nanos as f64 * 1e-9;
            span.in_scope(|| access_line(self.method, route, status, seconds));
        }
        let headers = response.headers_mut();
        headers.insert(
            TRACEPARENT,
            TraceParent::child_header(self.cx.trace_id, self.cx.span_id, self.cx.flags),
        );
        if let Some(id) = self.request_id.take() {
            headers.insert(X_REQUEST_ID, id.into_header());
        }
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

#[cfg(test)]
mod tests {
    #[test]
    fn request_ids_are_uuids_as_the_uuid_crate_writes_them() {
        for _ in 0..1000 {
            let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
            let text = super::hyphenated(id);
            assert_eq!(
                std::str::from_utf8(&text).unwrap(),
                id.hyphenated().to_string()
            );
        }
    }
}
