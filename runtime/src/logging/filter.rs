//! The log filter: `tracing-subscriber`'s `EnvFilter`, minus its span bookkeeping when no directive
//! needs it.
//!
//! `EnvFilter` takes a process-wide `RwLock` on every span's creation, entry, exit, record and close,
//! to track the spans that a dynamic directive (`target[span{field=value}]=level`) could match. With
//! only static directives (`info,hyper=warn`: no `[`) that table stays empty, so the lock is taken for
//! nothing, by every request of every core. This filter answers `enabled` and `register_callsite` as
//! `EnvFilter` does, and passes it the span callbacks only when a directive names a span.

use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Metadata, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, Layer};

/// An `EnvFilter` and whether any of its directives names a span.
#[derive(Debug)]
pub(crate) struct LogFilter {
    filter: EnvFilter,
    spans: bool,
    /// Whether the client spans of outgoing calls are made: only for an exporter, as nothing else in
    /// mvi's subscriber reads them (no code of the application runs inside one, so no log line is
    /// correlated by one).
    client_spans: bool,
}

/// The target of the client spans of `mvi::client`.
pub(crate) const CLIENT_TARGET: &str = "mvi::client";

impl LogFilter {
    /// Parses `directives` in `RUST_LOG` syntax.
    pub(crate) fn new(directives: &str) -> Result<LogFilter, String> {
        let filter = EnvFilter::try_new(directives).map_err(|e| e.to_string())?;
        Ok(LogFilter {
            filter,
            // A span or field filter is written in brackets; nothing else in the syntax is.
            spans: directives.contains('['),
            client_spans: true,
        })
    }

    /// Leaves client spans out: no exporter will read them.
    pub(crate) fn without_client_spans(mut self) -> LogFilter {
        self.client_spans = false;
        self
    }

    /// Whether `metadata` is a client span that nothing would read.
    fn unread(&self, metadata: &Metadata<'_>) -> bool {
        !self.client_spans && metadata.is_span() && metadata.target() == CLIENT_TARGET
    }
}

impl<S: Subscriber> Layer<S> for LogFilter {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if self.unread(metadata) {
            return Interest::never();
        }
        Layer::<S>::register_callsite(&self.filter, metadata)
    }

    fn enabled(&self, metadata: &Metadata<'_>, ctx: Context<'_, S>) -> bool {
        !self.unread(metadata) && Layer::<S>::enabled(&self.filter, metadata, ctx)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Layer::<S>::max_level_hint(&self.filter)
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if self.spans {
            Layer::<S>::on_new_span(&self.filter, attrs, id, ctx);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if self.spans {
            Layer::<S>::on_record(&self.filter, id, values, ctx);
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if self.spans {
            Layer::<S>::on_enter(&self.filter, id, ctx);
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        if self.spans {
            Layer::<S>::on_exit(&self.filter, id, ctx);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if self.spans {
            Layer::<S>::on_close(&self.filter, id, ctx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bracketed_directives_track_spans() {
        assert!(
            !LogFilter::new("info,hyper=warn,mvi::http=debug")
                .unwrap()
                .spans
        );
        assert!(LogFilter::new("info,[request]=debug").unwrap().spans);
        assert!(
            LogFilter::new("mvi[request{route=/orders}]=trace")
                .unwrap()
                .spans
        );
        assert!(LogFilter::new("info,=nonsense=").is_err());
    }

    #[test]
    fn client_spans_are_left_out_only_when_asked_and_only_them() {
        // Disabled here (no subscriber), but they keep their callsites' metadata.
        let client = tracing::info_span!(target: "mvi::client", "client");
        let server = tracing::info_span!(target: "mvi::http", "request");
        let (client, server) = (client.metadata().unwrap(), server.metadata().unwrap());
        let filter = LogFilter::new("info").unwrap();
        assert!(!filter.unread(client) && !filter.unread(server));
        let without = filter.without_client_spans();
        assert!(without.unread(client));
        assert!(!without.unread(server));
    }
}
