//! Ties the server span to OpenTelemetry when trace export is on (feature `otlp`).

use crate::trace_context::{SpanId, TraceId};

/// Links `span` to its remote parent and returns the ids the span is exported with. Without trace
/// export, these are the ids mvi generated.
pub(crate) fn link(
    _span: &tracing::Span,
    trace_id: TraceId,
    span_id: SpanId,
    _parent: Option<SpanId>,
    _flags: u8,
    _tracestate: Option<&str>,
) -> (TraceId, SpanId) {
    (trace_id, span_id)
}
