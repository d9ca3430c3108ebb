//! The trace context mvi is working in on this thread: the trace and span of the request (or of an
//! `#[observe(span)]` call) whose code runs now. It is mvi's own, kept in a thread-local that a future
//! wrapper sets on every poll, so it works whatever `tracing` subscriber is installed (mvi's logs,
//! yours, or none) and reading it costs one thread-local access: what exemplars, outgoing
//! `traceparent` headers and spawned tasks read.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use crate::trace_context::{FLAG_SAMPLED, SpanId, TraceId};

/// The trace and span code runs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpanContext {
    /// The trace.
    pub trace_id: TraceId,
    /// The current span.
    pub span_id: SpanId,
    /// W3C trace flags (`0x01` sampled, `0x02` random trace id).
    pub flags: u8,
}

impl SpanContext {
    /// Whether the trace is sampled (exported, and eligible for exemplars).
    pub fn is_sampled(&self) -> bool {
        self.flags & FLAG_SAMPLED != 0
    }
}

thread_local! {
    static CURRENT: Cell<Option<SpanContext>> = const { Cell::new(None) };
}

/// The context code on this thread runs in, if any.
#[inline]
pub fn current() -> Option<SpanContext> {
    CURRENT.with(Cell::get)
}

/// Makes `cx` current until the guard drops, which restores what was current before.
#[must_use = "the context is current until the guard drops"]
pub(crate) fn enter(cx: SpanContext) -> Entered {
    Entered(CURRENT.with(|c| c.replace(Some(cx))))
}

/// Restores the previous context when dropped.
#[derive(Debug)]
pub(crate) struct Entered(Option<SpanContext>);

impl Drop for Entered {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.0));
    }
}

pin_project_lite::pin_project! {
    /// A future that runs in a context: it is current during every poll.
    #[derive(Debug)]
    pub(crate) struct WithContext<F> {
        #[pin]
        inner: F,
        cx: SpanContext,
    }
}

impl<F> WithContext<F> {
    pub(crate) fn new(inner: F, cx: SpanContext) -> Self {
        WithContext { inner, cx }
    }
}

impl<F: Future> Future for WithContext<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _entered = enter(*this.cx);
        this.inner.poll(task)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_contexts_restore_the_outer_one() {
        let outer = SpanContext {
            trace_id: TraceId(1),
            span_id: SpanId(2),
            flags: 1,
        };
        let inner = SpanContext {
            span_id: SpanId(3),
            ..outer
        };
        assert_eq!(current(), None);
        {
            let _a = enter(outer);
            assert_eq!(current(), Some(outer));
            {
                let _b = enter(inner);
                assert_eq!(current(), Some(inner));
            }
            assert_eq!(current(), Some(outer));
        }
        assert_eq!(current(), None);
    }
}
