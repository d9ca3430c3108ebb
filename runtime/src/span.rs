//! What `#[observe(span)]` calls: a child span of the current context for each call.
//!
//! The span is a `tracing` span (so log lines inside carry its `span_id`, and `tracing-opentelemetry`
//! exports it with feature `otlp`) and an mvi context (so outgoing calls, spawned tasks and exemplars
//! inside see it). Its parent is mvi's current context, or the parent the attribute names; with
//! neither, it starts a new trace.

use std::future::Future;
use std::sync::Arc;

use tracing::field::Empty;

use crate::context::{self, Extra, Finish, IntoParent, Scope, SpanContext};
use crate::site::{Outcome, Site};
use crate::trace_context::{FLAG_RANDOM, FLAG_SAMPLED, SpanId, TraceId, TraceParent};

/// A new span's ids, as a child of `parent` (or the root of a new trace).
#[derive(Debug)]
pub(crate) struct Child {
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
    pub(crate) flags: u8,
    /// The parent's span id and whether it is remote.
    pub(crate) parent: Option<(SpanId, bool)>,
    /// The `tracestate` it inherits; a child of this process is never remote.
    pub(crate) extra: Extra,
}

impl Child {
    pub(crate) fn of(parent: Option<SpanContext>, extra: &Extra) -> Child {
        match parent {
            Some(p) => Child {
                trace_id: p.trace_id,
                span_id: SpanId::random(),
                flags: p.flags,
                parent: Some((p.span_id, extra.remote)),
                extra: Extra {
                    tracestate: extra.tracestate.clone(),
                    remote: false,
                },
            },
            None => Child {
                trace_id: TraceId::random(),
                span_id: SpanId::random(),
                flags: FLAG_SAMPLED | FLAG_RANDOM,
                parent: None,
                extra: Extra::default(),
            },
        }
    }

    /// A server span's ids: a child of the caller's span (`traceparent`, with its `tracestate`,
    /// carried on to this span's children), or the root of a new trace.
    pub(crate) fn remote(parent: Option<(TraceParent, Option<String>)>) -> Child {
        match parent {
            Some((p, tracestate)) => Child {
                trace_id: p.trace_id,
                span_id: SpanId::random(),
                flags: p.flags,
                parent: Some((p.parent_id, true)),
                extra: Extra {
                    tracestate: tracestate.map(Arc::from),
                    remote: false,
                },
            },
            None => Child::of(None, &Extra::default()),
        }
    }

    /// The ids to give a span when it is created: known now unless spans are exported, when they
    /// are read back after [`link`](Child::link) instead.
    pub(crate) fn known_ids(&self) -> Option<(TraceId, SpanId)> {
        (!crate::otel::exporting()).then_some((self.trace_id, self.span_id))
    }

    /// Ties `span` to the parent (with export, the ids read back are the exported ones, and are
    /// recorded as `trace_id` and `span_id` when `record` says so), and returns the context to make
    /// current.
    pub(crate) fn link(self, span: &tracing::Span, record: bool) -> (SpanContext, Extra) {
        let (trace_id, span_id) = crate::otel::link_to(
            span,
            self.trace_id,
            self.span_id,
            self.parent,
            self.flags,
            self.extra.tracestate.as_deref(),
        );
        if record {
            span.record("trace_id", tracing::field::display(trace_id));
            span.record("span_id", tracing::field::display(span_id));
        }
        let cx = SpanContext {
            trace_id,
            span_id,
            flags: self.flags,
        };
        (cx, self.extra)
    }
}

/// One `#[observe(span)]` function: its call site, and where its code is.
#[derive(Debug)]
pub struct SpanSite {
    site: &'static Site,
    file: &'static str,
    line: u32,
}

impl SpanSite {
    #[doc(hidden)]
    pub const fn new(site: &'static Site, file: &'static str, line: u32) -> Self {
        SpanSite { site, file, line }
    }

    /// Opens the span of one call, a child of the current context (or a new trace).
    #[inline]
    pub fn start(&'static self, self_type: Option<&'static str>) -> CallSpan {
        self.open(self_type, context::current(), &Extra::current())
    }

    /// Opens the span of one call, a child of `parent` (an extracted remote parent, say), or the
    /// root of a new trace when there is none, whatever is current.
    pub fn start_from(
        &'static self,
        self_type: Option<&'static str>,
        parent: impl IntoParent,
    ) -> CallSpan {
        match parent.into_parent() {
            Some(carried) => {
                let (cx, extra) = carried.parts();
                self.open(self_type, cx, extra)
            }
            None => self.open(self_type, None, &Extra::default()),
        }
    }

    fn open(
        &'static self,
        self_type: Option<&'static str>,
        parent: Option<SpanContext>,
        extra: &Extra,
    ) -> CallSpan {
        let function = self.site.function(self_type);
        let child = Child::of(parent, extra);
        let known = child.known_ids();
        let span = crate::logging::span_with_ids(known, None, || {
            tracing::info_span!(
                target: "mvi::span",
                "call",
                otel.name = function,
                otel.kind = "internal",
                otel.status_code = Empty,
                error.type = Empty,
                mvi.cancelled = Empty,
                code.function.name = function,
                code.namespace = self.site.module(),
                code.filepath = self.file,
                code.lineno = i64::from(self.line),
                trace_id = known.map(|(t, _)| tracing::field::display(t)),
                span_id = known.map(|(_, s)| tracing::field::display(s)),
            )
        });
        let (cx, extra) = child.link(&span, known.is_none());
        CallSpan {
            span,
            cx,
            extra,
            finished: false,
        }
    }
}

/// The span of one call: ended by [`finish`](CallSpan::finish), or when dropped, as an error while
/// unwinding from a panic, else as cancelled (an `async fn`'s future dropped before it finished).
#[derive(Debug)]
#[must_use = "the span ends when this drops"]
pub struct CallSpan {
    span: tracing::Span,
    cx: SpanContext,
    extra: Extra,
    finished: bool,
}

impl CallSpan {
    /// Runs a synchronous body in the span.
    #[inline]
    pub fn in_scope<R>(&mut self, body: impl FnOnce() -> R) -> R {
        let _entered = context::enter_scope(self);
        body()
    }

    /// Runs an `async` body in the span: it is current during every poll.
    #[inline]
    pub fn run<F: Future>(&mut self, body: F) -> impl Future<Output = F::Output> {
        context::scoped(self, body)
    }

    /// The call returned: an `Error` outcome sets the span's error status and `error.type`.
    #[inline]
    pub fn finish(mut self, outcome: Outcome, error_type: &'static str) {
        self.finished = true;
        if outcome == Outcome::Error {
            self.span.record("otel.status_code", "ERROR");
            self.span.record("error.type", error_type);
        }
    }
}

impl Scope for CallSpan {
    fn parts(&mut self) -> (&tracing::Span, Option<SpanContext>, &mut Extra) {
        (&self.span, Some(self.cx), &mut self.extra)
    }
}

impl<T> Finish<T> for &mut CallSpan {
    type Output = T;

    fn finish(&mut self, output: T) -> T {
        output
    }
}

impl Drop for CallSpan {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        if std::thread::panicking() {
            self.span.record("otel.status_code", "ERROR");
            self.span.record("error.type", "panic");
        } else {
            self.span.record("mvi.cancelled", true);
        }
    }
}
