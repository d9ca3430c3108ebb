//! The trace context mvi is working in on this thread: the trace and span of the request (or of an
//! `#[observe(span)]` call) whose code runs now. It is mvi's own, kept in a thread-local that a future
//! wrapper sets on every poll, so it works whatever `tracing` subscriber is installed (mvi's logs,
//! yours, or none) and reading it costs one thread-local access: what exemplars, outgoing
//! `traceparent` headers and spawned tasks read.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use crate::trace_context::{FLAG_SAMPLED, SpanId, TraceId};

/// The trace and span code runs in.
///
/// # Examples
///
/// ```
/// let carrier = vec![("traceparent".to_string(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_string())];
/// let parent = mvi::propagation::extract_from(&carrier).unwrap();
/// let cx: mvi::context::SpanContext = parent.in_scope(|| mvi::context::current().unwrap());
/// assert_eq!(cx.trace_id.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
/// assert_eq!(cx.span_id.to_string(), "00f067aa0ba902b7");
/// assert_eq!(cx.flags, mvi::trace_context::FLAG_SAMPLED);
/// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// let carrier = vec![("traceparent".to_string(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_string())];
    /// let parent = mvi::propagation::extract_from(&carrier).unwrap();
    /// assert!(parent.span_context().unwrap().is_sampled()); // flags `01`
    /// ```
    pub fn is_sampled(&self) -> bool {
        self.flags & FLAG_SAMPLED != 0
    }
}

thread_local! {
    static CURRENT: Cell<Option<SpanContext>> = const { Cell::new(None) };
    /// What travels with the current context besides its ids: kept apart so that [`current`] stays one
    /// copy of a small `Copy` value.
    static EXTRA: Cell<Extra> = const { Cell::new(Extra::NONE) };
}

/// The context code on this thread runs in, if any.
///
/// # Examples
///
/// ```
/// assert_eq!(mvi::context::current(), None); // outside any trace
///
/// #[mvi::observe(span)]
/// fn checkout() -> Option<mvi::context::SpanContext> {
///     mvi::context::current() // the span of this call
/// }
/// let cx = checkout().unwrap();
/// assert_ne!(cx.trace_id.0, 0);
/// ```
#[inline]
pub fn current() -> Option<SpanContext> {
    CURRENT.with(Cell::get)
}

/// The W3C `tracestate` of the current trace, as the caller sent it, if any.
///
/// # Examples
///
/// ```
/// let carrier = vec![
///     ("traceparent".to_string(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_string()),
///     ("tracestate".to_string(), "vendor=abc".to_string()),
/// ];
/// let parent = mvi::propagation::extract_from(&carrier).unwrap();
/// let state = parent.in_scope(mvi::context::tracestate);
/// assert_eq!(state.as_deref(), Some("vendor=abc"));
/// ```
pub fn tracestate() -> Option<Arc<str>> {
    EXTRA.with(|e| {
        let extra = e.take();
        let state = extra.tracestate.clone();
        e.set(extra);
        state
    })
}

/// What goes with a [`SpanContext`]: its `tracestate`, and whether the span is remote.
#[derive(Clone, Debug, Default)]
pub(crate) struct Extra {
    pub(crate) tracestate: Option<Arc<str>>,
    pub(crate) remote: bool,
}

impl Extra {
    const NONE: Extra = Extra {
        tracestate: None,
        remote: false,
    };

    /// The current one, cloned.
    pub(crate) fn current() -> Extra {
        EXTRA.with(|e| {
            let extra = e.take();
            let copy = extra.clone();
            e.set(extra);
            copy
        })
    }
}

/// Makes `cx` (with `extra`, moved in, not cloned) current until the guard drops, which restores what
/// was current before and moves `extra` back.
#[must_use = "the context is current until the guard drops"]
pub(crate) fn enter(cx: Option<SpanContext>, extra: &mut Extra) -> Entered<'_> {
    let previous = CURRENT.with(|c| c.replace(cx));
    let previous_extra = EXTRA.with(|e| e.replace(std::mem::take(extra)));
    Entered {
        previous,
        previous_extra,
        slot: extra,
    }
}

/// Restores the previous context when dropped.
#[derive(Debug)]
pub(crate) struct Entered<'a> {
    previous: Option<SpanContext>,
    previous_extra: Extra,
    slot: &'a mut Extra,
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.previous));
        *self.slot = EXTRA.with(|e| e.replace(std::mem::take(&mut self.previous_extra)));
    }
}

/// What a future runs in: a `tracing` span (for log correlation and export) and an mvi context (for
/// what reads [`current`]), entered together.
pub(crate) trait Scope {
    /// The span, the context, and what goes with the context (moved in while entered).
    fn parts(&mut self) -> (&tracing::Span, Option<SpanContext>, &mut Extra);
}

/// What a [`Scope`] makes of the output of a future run in it, once the future is ready.
pub(crate) trait Finish<T>: Scope {
    type Output;

    fn finish(&mut self, output: T) -> Self::Output;
}

impl<T: Scope + ?Sized> Scope for &mut T {
    fn parts(&mut self) -> (&tracing::Span, Option<SpanContext>, &mut Extra) {
        (**self).parts()
    }
}

/// A scope entered: the context is restored, then the span exited, when it drops.
pub(crate) struct InScope<'a> {
    _cx: Entered<'a>,
    _span: tracing::span::Entered<'a>,
}

/// Enters `scope`'s span and context until the guard drops.
pub(crate) fn enter_scope<S: Scope + ?Sized>(scope: &mut S) -> InScope<'_> {
    let (span, cx, extra) = scope.parts();
    let _span = span.enter();
    InScope {
        _cx: enter(cx, extra),
        _span,
    }
}

pin_project_lite::pin_project! {
    /// A future that runs in a [`Scope`], entered on every poll and also while the future is dropped
    /// before it finished (a request abandoned by its client), so that what its destructors log is
    /// correlated. One wrapper for both, holding the scope in place until it drops: no clone of the
    /// span per call, no entry only to drop a finished future, no move of the scope at the end.
    #[derive(Debug)]
    pub(crate) struct Scoped<S: Scope, F> {
        #[pin]
        body: Option<F>,
        scope: S,
        finished: bool,
    }

    impl<S: Scope, F> PinnedDrop for Scoped<S, F> {
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            if !*this.finished && this.body.is_some() {
                let _entered = enter_scope(this.scope);
                this.body.set(None);
            }
        }
    }
}

/// Runs `body` in `scope`.
pub(crate) fn scoped<S: Scope, F: Future>(scope: S, body: F) -> Scoped<S, F> {
    Scoped {
        body: Some(body),
        scope,
        finished: false,
    }
}

impl<S: Finish<F::Output>, F: Future> Future for Scoped<S, F> {
    type Output = S::Output;

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        assert!(!*this.finished, "polled after it completed");
        let output = {
            let _entered = enter_scope(this.scope);
            let Some(body) = this.body.as_pin_mut() else {
                unreachable!("the body is there until the future drops")
            };
            let Poll::Ready(output) = body.poll(task) else {
                return Poll::Pending;
            };
            output
        };
        // The finished body stays where it is (an `async` block that returned holds nothing to drop).
        *this.finished = true;
        Poll::Ready(this.scope.finish(output))
    }
}

/// A trace context taken somewhere to run code in elsewhere: captured with [`capture`] (the current
/// context and `tracing` span, for a task or a thread), or extracted from a request's or a message's
/// headers with [`propagation::extract`](crate::propagation::extract) (a remote parent, for a
/// consumer or a job that continues the sender's trace).
///
/// ```
/// let here = mvi::context::capture();
/// let worker = std::thread::spawn(move || here.in_scope(|| tracing::info!("same trace_id as the caller")));
/// worker.join().unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct Carried {
    cx: Option<SpanContext>,
    extra: Extra,
    span: tracing::Span,
}

/// What `#[observe(span(parent = ...))]` takes: a [`Carried`] context, or `Option<Carried>` as
/// [`propagation::extract`](crate::propagation::extract) returns it (`None` starts a new trace).
///
/// # Examples
///
/// `span(parent = ...)` takes either a [`Carried`] or an `Option<Carried>`:
///
/// ```
/// use mvi::context::{Carried, IntoParent};
///
/// #[mvi::observe(span(parent = parent))]
/// fn handle(parent: Option<Carried>) -> bool {
///     mvi::context::current().is_some()
/// }
///
/// assert!(handle(None)); // a new trace
/// let parent: Option<Carried> = mvi::propagation::extract_from(&Vec::<(String, String)>::new());
/// assert!(parent.clone().into_parent().is_none());
/// assert!(handle(parent));
/// ```
#[diagnostic::on_unimplemented(
    message = "`span(parent = ...)` takes an `Option<mvi::context::Carried>` (as `mvi::propagation::extract` returns) or a `Carried`, not `{Self}`",
    label = "not a parent context"
)]
pub trait IntoParent {
    /// The parent, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use mvi::context::IntoParent;
    ///
    /// let here = mvi::context::capture();
    /// assert!(here.into_parent().is_some());
    /// ```
    fn into_parent(self) -> Option<Carried>;
}

impl IntoParent for Carried {
    fn into_parent(self) -> Option<Carried> {
        Some(self)
    }
}

impl IntoParent for Option<Carried> {
    fn into_parent(self) -> Option<Carried> {
        self
    }
}

/// The current context and `tracing` span, to carry into a task, a thread or a callback.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// #[mvi::observe(span)]
/// async fn enqueue() -> mvi::context::Carried {
///     mvi::context::capture() // the span of this call, to finish the work elsewhere
/// }
///
/// let job = enqueue().await;
/// let trace = job.span_context().unwrap().trace_id;
/// let seen = std::thread::spawn(move || job.in_scope(|| mvi::context::current().unwrap().trace_id));
/// assert_eq!(seen.join().unwrap(), trace);
/// # }
/// ```
pub fn capture() -> Carried {
    Carried {
        cx: current(),
        extra: Extra::current(),
        span: tracing::Span::current(),
    }
}

impl Carried {
    /// A remote parent: another process' span, as a `traceparent` header names it.
    pub(crate) fn remote(cx: SpanContext, tracestate: Option<Arc<str>>) -> Carried {
        Carried {
            cx: Some(cx),
            extra: Extra {
                tracestate,
                remote: true,
            },
            span: tracing::Span::none(),
        }
    }

    /// The trace and span it carries, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// let carrier = vec![("traceparent".to_string(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_string())];
    /// let parent = mvi::propagation::extract_from(&carrier).unwrap();
    /// assert_eq!(parent.span_context().unwrap().span_id.to_string(), "00f067aa0ba902b7");
    /// assert!(mvi::context::capture().span_context().is_none()); // captured outside any trace
    /// ```
    pub fn span_context(&self) -> Option<SpanContext> {
        self.cx
    }

    /// Its `tracestate`, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// let carrier = vec![
    ///     ("traceparent".to_string(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_string()),
    ///     ("tracestate".to_string(), "vendor=abc".to_string()),
    /// ];
    /// let parent = mvi::propagation::extract_from(&carrier).unwrap();
    /// assert_eq!(parent.tracestate(), Some("vendor=abc"));
    /// ```
    pub fn tracestate(&self) -> Option<&str> {
        self.extra.tracestate.as_deref()
    }

    pub(crate) fn parts(&self) -> (Option<SpanContext>, &Extra) {
        (self.cx, &self.extra)
    }

    /// Runs `f` in this context: `mvi::context::current()`, outgoing headers, new spans and log lines
    /// inside see it.
    ///
    /// # Examples
    ///
    /// ```
    /// let carrier = vec![("traceparent".to_string(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_string())];
    /// let parent = mvi::propagation::extract_from(&carrier).unwrap();
    /// let trace = parent.in_scope(|| {
    ///     tracing::info!("consuming"); // a log line of this trace
    ///     mvi::context::current().unwrap().trace_id
    /// });
    /// assert_eq!(trace.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
    /// ```
    pub fn in_scope<R>(mut self, f: impl FnOnce() -> R) -> R {
        let _entered = enter_scope(&mut self);
        f()
    }

    /// Runs a future in this context: it is current during every poll.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let carrier = vec![("traceparent".to_string(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_string())];
    /// let parent = mvi::propagation::extract_from(&carrier).unwrap();
    /// let trace = parent
    ///     .scope(async { mvi::context::current().unwrap().trace_id })
    ///     .await;
    /// assert_eq!(trace.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
    /// # }
    /// ```
    pub fn scope<F: Future>(self, future: F) -> impl Future<Output = F::Output> {
        scoped(self, future)
    }
}

impl Scope for Carried {
    fn parts(&mut self) -> (&tracing::Span, Option<SpanContext>, &mut Extra) {
        (&self.span, self.cx, &mut self.extra)
    }
}

impl<T> Finish<T> for Carried {
    type Output = T;

    fn finish(&mut self, output: T) -> T {
        output
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
        let (mut outer_extra, mut inner_extra) = (
            Extra {
                tracestate: Some("a=1".into()),
                remote: true,
            },
            Extra::default(),
        );
        assert_eq!(current(), None);
        {
            let _a = enter(Some(outer), &mut outer_extra);
            assert_eq!(current(), Some(outer));
            assert_eq!(tracestate().as_deref(), Some("a=1"));
            assert!(Extra::current().remote);
            {
                let _b = enter(Some(inner), &mut inner_extra);
                assert_eq!(current(), Some(inner));
                assert_eq!(tracestate(), None);
                assert!(!Extra::current().remote);
            }
            assert_eq!(current(), Some(outer));
            assert_eq!(tracestate().as_deref(), Some("a=1"));
        }
        assert_eq!(current(), None);
        assert_eq!(tracestate(), None);
        assert_eq!(outer_extra.tracestate.as_deref(), Some("a=1"));
    }
}
