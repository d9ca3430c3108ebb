//! Ties the server span to OpenTelemetry when trace export is on (feature `otlp`).
//!
//! The order follows what `tracing-opentelemetry` needs: the span is created, its remote parent is set,
//! and only then is its context read (reading it first starts the OpenTelemetry span and loses the
//! parent). The ids read back are the ones exported, so logs and headers carry the exported ids.

use crate::trace_context::{SpanId, TraceId};

/// Whether spans are exported: only then do a span's exported ids need reading back after it is
/// created (without export they are the ids mvi generated, known before).
#[cfg(not(feature = "otlp"))]
#[inline]
pub(crate) fn exporting() -> bool {
    false
}

/// As [`link`], for a parent that may be local (`(id, false)`: a span of this process, such as the
/// server span an `#[observe(span)]` call or an outgoing call runs in) or remote (`(id, true)`).
/// mvi's context decides the parent, whatever `tracing` span is current.
#[cfg(not(feature = "otlp"))]
pub(crate) fn link_to(
    _span: &tracing::Span,
    trace_id: TraceId,
    span_id: SpanId,
    _parent: Option<(SpanId, bool)>,
    _flags: u8,
    _tracestate: Option<&str>,
) -> (TraceId, SpanId) {
    (trace_id, span_id)
}

#[cfg(feature = "otlp")]
pub(crate) use export::{TraceExport, exporting, link_to};

#[cfg(feature = "otlp")]
mod export {
    use std::time::Duration;

    use opentelemetry::trace::{
        SpanContext, TraceContextExt, TraceFlags, TraceState, TracerProvider,
    };
    use opentelemetry::{Context, trace};
    use opentelemetry_otlp::{SpanExporter, WithExportConfig};
    use opentelemetry_sdk::Resource;
    use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
    use tracing_opentelemetry::{OpenTelemetryLayer, OpenTelemetrySpanExt};

    use super::{SpanId, TraceId};

    /// Set once the export layer is in the subscriber.
    static EXPORTING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

    #[inline]
    pub(crate) fn exporting() -> bool {
        EXPORTING.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn link_to(
        span: &tracing::Span,
        trace_id: TraceId,
        span_id: SpanId,
        parent: Option<(SpanId, bool)>,
        flags: u8,
        tracestate: Option<&str>,
    ) -> (TraceId, SpanId) {
        if !exporting() {
            return (trace_id, span_id);
        }
        if let Some((parent, remote)) = parent {
            let state = tracestate
                .and_then(|s| s.parse::<TraceState>().ok())
                .unwrap_or_default();
            let remote = SpanContext::new(
                trace::TraceId::from_bytes(trace_id.0.to_be_bytes()),
                trace::SpanId::from_bytes(parent.0.to_be_bytes()),
                TraceFlags::new(flags),
                remote,
                state,
            );
            let _ = span.set_parent(Context::new().with_remote_span_context(remote));
        }
        let cx = span.context();
        let exported = cx.span().span_context().clone();
        if exported.is_valid() {
            (
                TraceId(u128::from_be_bytes(exported.trace_id().to_bytes())),
                SpanId(u64::from_be_bytes(exported.span_id().to_bytes())),
            )
        } else {
            (trace_id, span_id)
        }
    }

    /// The OTLP exporter: its layer goes into the subscriber, and `shutdown` flushes it.
    #[derive(Debug)]
    pub(crate) struct TraceExport {
        provider: SdkTracerProvider,
    }

    /// How long `shutdown` waits for the last spans to reach the collector.
    const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

    impl TraceExport {
        /// An OTLP/HTTP (protobuf) exporter with a batch processor. `endpoint` is the collector's base
        /// URL (`/v1/traces` is appended); `None` reads `OTEL_EXPORTER_OTLP_ENDPOINT` and friends.
        pub(crate) fn new(
            service_name: &str,
            endpoint: Option<&str>,
        ) -> Result<TraceExport, String> {
            let mut exporter = SpanExporter::builder().with_http();
            if let Some(endpoint) = endpoint {
                exporter =
                    exporter.with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')));
            }
            let exporter = exporter.build().map_err(|e| e.to_string())?;
            let provider = SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .with_resource(
                    Resource::builder()
                        .with_service_name(service_name.to_string())
                        .build(),
                )
                .build();
            Ok(TraceExport { provider })
        }

        /// The layer for the subscriber; from then on spans are exported.
        pub(crate) fn layer<S>(&self) -> OpenTelemetryLayer<S, SdkTracer>
        where
            S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
        {
            EXPORTING.store(true, std::sync::atomic::Ordering::Relaxed);
            // The `code.*` location of mvi's own spans would be mvi's source; they carry the user's instead.
            tracing_opentelemetry::layer()
                .with_location(false)
                .with_tracer(self.provider.tracer("mvi"))
        }

        /// Flushes and stops the exporter, waiting at most [`FLUSH_TIMEOUT`].
        pub(crate) async fn shutdown(self) {
            let provider = self.provider;
            let flush =
                tokio::task::spawn_blocking(move || provider.shutdown_with_timeout(FLUSH_TIMEOUT));
            let _ = tokio::time::timeout(FLUSH_TIMEOUT + Duration::from_secs(1), flush).await;
        }
    }
}
