//! JSON logs: one object per line, correlated with the current request's trace.
//!
//! Each line has `time` (RFC 3339, UTC), `level`, `msg`, `target`, `file`, `line`, the `trace_id`,
//! `span_id` and `request_id` of the nearest enclosing span that has them (as `#[traced_handler]`'s
//! server span does), and the event's own fields. DEBUG and TRACE lines can be sampled by ratio; the
//! decision is made per trace id, so a trace keeps all of its debug lines or none. Other levels are
//! never dropped. `mvi_log_events_total{level}` and `mvi_log_events_sampled_out_total{level}` count them.

use std::fmt;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// Where log lines go.
#[derive(Clone)]
pub enum LogOutput {
    /// Standard output (the default): what container runtimes collect.
    Stdout,
    /// Standard error.
    Stderr,
    /// Any writer, shared (a file, a buffer in a test).
    Writer(Arc<Mutex<dyn Write + Send>>),
}

impl fmt::Debug for LogOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogOutput::Stdout => "Stdout",
            LogOutput::Stderr => "Stderr",
            LogOutput::Writer(_) => "Writer",
        })
    }
}

/// The output of the installed log layer, flushed by [`flush`].
static OUTPUT: OnceLock<LogOutput> = OnceLock::new();

/// Flushes the installed log output, if any.
pub(crate) fn flush() {
    if let Some(output) = OUTPUT.get() {
        output.flush();
    }
}

impl LogOutput {
    fn write_line(&self, line: &[u8]) {
        let _ = match self {
            LogOutput::Stdout => std::io::stdout().lock().write_all(line),
            LogOutput::Stderr => std::io::stderr().lock().write_all(line),
            LogOutput::Writer(w) => w.lock().unwrap_or_else(|e| e.into_inner()).write_all(line),
        };
    }

    fn flush(&self) {
        let _ = match self {
            LogOutput::Stdout => std::io::stdout().lock().flush(),
            LogOutput::Stderr => std::io::stderr().lock().flush(),
            LogOutput::Writer(w) => w.lock().unwrap_or_else(|e| e.into_inner()).flush(),
        };
    }
}

/// The default filter when `RUST_LOG` is unset: `info`, with the HTTP and export stacks' own chatter
/// kept to warnings.
pub const DEFAULT_FILTER: &str = "info,hyper=warn,hyper_util=warn,h2=warn,tower=warn,reqwest=warn,opentelemetry=warn,opentelemetry_sdk=warn,opentelemetry_otlp=warn";

/// The correlation ids a span carries, kept in its extensions.
#[derive(Default, Clone)]
struct Correlation {
    trace_id: Option<String>,
    span_id: Option<String>,
    request_id: Option<String>,
}

impl Visit for Correlation {
    fn record_str(&mut self, field: &Field, value: &str) {
        if let Some(slot) = self.slot(field.name()) {
            *slot = Some(value.to_string());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if let Some(slot) = self.slot(field.name()) {
            // `%value` fields arrive here; their Debug is the Display text.
            *slot = Some(format!("{value:?}"));
        }
    }
}

impl Correlation {
    /// Where a correlation field goes; `None` for every other field, which is not copied.
    fn slot(&mut self, name: &str) -> Option<&mut Option<String>> {
        match name {
            "trace_id" => Some(&mut self.trace_id),
            "span_id" => Some(&mut self.span_id),
            "request_id" => Some(&mut self.request_id),
            _ => None,
        }
    }
}

/// The event's fields as JSON.
struct Fields<'a>(&'a mut Map<String, Value>);

impl Visit for Fields<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(
            field.name().into(),
            serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number),
        );
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0.insert(field.name().into(), value.to_string().into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().into(), format!("{value:?}").into());
    }
}

/// Per-level counts of emitted and sampled-out lines.
#[derive(Debug)]
struct LevelCounters {
    emitted: [metrics::Counter; 5],
    sampled_out: [metrics::Counter; 5],
}

const LEVELS: [&str; 5] = ["trace", "debug", "info", "warn", "error"];

fn level_index(level: &Level) -> usize {
    match *level {
        Level::TRACE => 0,
        Level::DEBUG => 1,
        Level::INFO => 2,
        Level::WARN => 3,
        _ => 4,
    }
}

/// The JSON log layer.
pub(crate) struct JsonLayer {
    output: LogOutput,
    /// Keep DEBUG/TRACE lines whose trace hashes below this (of `u64::MAX`).
    debug_threshold: u64,
    counters: LevelCounters,
}

impl JsonLayer {
    pub(crate) fn new(
        output: LogOutput,
        debug_sample_ratio: f64,
        recorder: &dyn metrics::Recorder,
    ) -> JsonLayer {
        static META: metrics::Metadata<'static> =
            metrics::Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));
        let counter = |name: &'static str, level: &'static str| {
            let key = metrics::Key::from_parts(
                name,
                vec![metrics::Label::from_static_parts("level", level)],
            );
            recorder.register_counter(&key, &META)
        };
        recorder.describe_counter(EMITTED.into(), None, "Log lines written, by level.".into());
        recorder.describe_counter(
            SAMPLED_OUT.into(),
            None,
            "DEBUG and TRACE lines dropped by sampling, by level.".into(),
        );
        let ratio = debug_sample_ratio.clamp(0.0, 1.0);
        let _ = OUTPUT.set(output.clone());
        JsonLayer {
            output,
            debug_threshold: if ratio >= 1.0 {
                u64::MAX
            } else {
                (ratio * u64::MAX as f64) as u64
            },
            counters: LevelCounters {
                emitted: LEVELS.map(|l| counter(EMITTED, l)),
                sampled_out: LEVELS.map(|l| counter(SAMPLED_OUT, l)),
            },
        }
    }

    /// Whether a DEBUG/TRACE line of this trace is kept: the same answer for every line of a trace.
    fn keep(&self, trace_id: Option<&str>) -> bool {
        if self.debug_threshold == u64::MAX {
            return true;
        }
        let draw = match trace_id {
            // Trace ids are random: their last 16 hex digits are a fair, shared draw.
            // `get` rather than slicing: a span of the application's own may carry any text here.
            Some(id) => match id.get(id.len().saturating_sub(16)..) {
                Some(tail) if id.len() >= 16 => u64::from_str_radix(tail, 16).unwrap_or(0),
                _ => rand::random::<u64>(),
            },
            None => rand::random::<u64>(),
        };
        draw < self.debug_threshold
    }
}

const EMITTED: &str = "mvi_log_events_total";
const SAMPLED_OUT: &str = "mvi_log_events_sampled_out_total";

impl<S> Layer<S> for JsonLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut ids = Correlation::default();
        attrs.record(&mut ids);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(ids);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            let mut ext = span.extensions_mut();
            if let Some(ids) = ext.get_mut::<Correlation>() {
                values.record(ids);
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        let level = level_index(meta.level());
        let mut ids = Correlation::default();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope {
                if let Some(found) = span.extensions().get::<Correlation>() {
                    ids.trace_id = ids.trace_id.or_else(|| found.trace_id.clone());
                    ids.span_id = ids.span_id.or_else(|| found.span_id.clone());
                    ids.request_id = ids.request_id.or_else(|| found.request_id.clone());
                }
                if ids.trace_id.is_some() && ids.request_id.is_some() {
                    break;
                }
            }
        }
        if level <= 1 && !self.keep(ids.trace_id.as_deref()) {
            self.counters.sampled_out[level].increment(1);
            return;
        }
        let mut fields = Map::new();
        event.record(&mut Fields(&mut fields));
        let mut line = Map::new();
        line.insert(
            "time".into(),
            humantime::format_rfc3339_micros(SystemTime::now())
                .to_string()
                .into(),
        );
        line.insert("level".into(), meta.level().as_str().into());
        line.insert(
            "msg".into(),
            fields.shift_remove("message").unwrap_or_else(|| "".into()),
        );
        line.insert("target".into(), meta.target().into());
        if let Some(file) = meta.file() {
            line.insert("file".into(), file.into());
        }
        if let Some(l) = meta.line() {
            line.insert("line".into(), l.into());
        }
        for (key, value) in [
            ("trace_id", ids.trace_id),
            ("span_id", ids.span_id),
            ("request_id", ids.request_id),
        ] {
            if let Some(v) = value {
                line.insert(key.into(), v.into());
            }
        }
        for (key, value) in fields {
            line.entry(key).or_insert(value);
        }
        let mut text = serde_json::to_vec(&Value::Object(line)).unwrap_or_default();
        text.push(b'\n');
        self.output.write_line(&text);
        self.counters.emitted[level].increment(1);
    }
}

#[cfg(test)]
mod tests {
    //! The layer must never panic, whatever the fields of an event or of a span of the application's
    //! own: field names and values here are arbitrary strings, ids included.

    use std::sync::OnceLock;

    use proptest::prelude::*;
    use tracing::callsite::{Callsite, Identifier};
    use tracing::field::{FieldSet, Value};
    use tracing::metadata::Kind;
    use tracing::subscriber::Interest;
    use tracing::{Metadata, Span};
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    struct TestCallsite(OnceLock<&'static Metadata<'static>>);

    impl Callsite for TestCallsite {
        fn set_interest(&self, _: Interest) {}

        fn metadata(&self) -> &Metadata<'_> {
            self.0.get().expect("set before use")
        }
    }

    /// Metadata with these field names, leaked: `tracing` wants it `'static`.
    fn metadata(names: &[String], level: Level, kind: Kind) -> &'static Metadata<'static> {
        let callsite: &'static TestCallsite = Box::leak(Box::new(TestCallsite(OnceLock::new())));
        let names: Vec<&'static str> = names
            .iter()
            .map(|n| &*Box::leak(n.clone().into_boxed_str()))
            .collect();
        let meta = Box::leak(Box::new(Metadata::new(
            "arbitrary",
            "arbitrary",
            level,
            Some("src/arbitrary.rs"),
            Some(1),
            None,
            FieldSet::new(Box::leak(names.into_boxed_slice()), Identifier(callsite)),
            kind,
        )));
        let _ = callsite.0.set(meta);
        meta
    }

    fn layer(buffer: &Arc<Mutex<Vec<u8>>>, ratio: f64) -> JsonLayer {
        JsonLayer::new(
            LogOutput::Writer(buffer.clone()),
            ratio,
            &metrics::NoopRecorder,
        )
    }

    proptest! {
        #[test]
        fn any_fields_give_one_json_line(
            span_ids in proptest::collection::vec(".*", 3),
            names in proptest::collection::vec(".*", 3),
            text in ".*",
            number in any::<i64>(),
            float in any::<f64>(),
            debug in any::<bool>(),
        ) {
            let buffer = Arc::new(Mutex::new(Vec::new()));
            let subscriber = tracing_subscriber::registry().with(layer(&buffer, 0.5));
            let level = if debug { Level::DEBUG } else { Level::INFO };
            let span_meta = metadata(
                &["trace_id".into(), "span_id".into(), "request_id".into()],
                Level::INFO,
                Kind::SPAN,
            );
            let event_meta = metadata(&names, level, Kind::EVENT);
            tracing::subscriber::with_default(subscriber, || {
                let fields = span_meta.fields();
                let f: Vec<_> = fields.iter().collect();
                let values = [
                    (&f[0], Some(&span_ids[0].as_str() as &dyn Value)),
                    (&f[1], Some(&span_ids[1].as_str() as &dyn Value)),
                    (&f[2], Some(&tracing::field::display(&span_ids[2]) as &dyn Value)),
                ];
                let span = Span::new(span_meta, &fields.value_set(&values));
                let _entered = span.enter();
                let fields = event_meta.fields();
                let f: Vec<_> = fields.iter().collect();
                let values = [
                    (&f[0], Some(&text.as_str() as &dyn Value)),
                    (&f[1], Some(&number as &dyn Value)),
                    (&f[2], Some(&float as &dyn Value)),
                ];
                tracing::Event::dispatch(event_meta, &fields.value_set(&values));
            });
            let written = String::from_utf8(buffer.lock().unwrap().clone()).unwrap();
            for line in written.lines() {
                let parsed: serde_json::Value = serde_json::from_str(line).unwrap();
                prop_assert!(parsed.is_object());
            }
            prop_assert!(written.lines().count() <= 1);
            if !debug {
                prop_assert_eq!(written.lines().count(), 1);
            }
        }
    }
}
