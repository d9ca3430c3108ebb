//! JSON logs: one object per line, correlated with the current request's trace, written off the
//! request path and within a budget.
//!
//! Each line has `time` (RFC 3339, UTC), `level`, `msg`, `target`, `file`, `line`, the `trace_id`,
//! `span_id` and `request_id` of the nearest enclosing span that has them (as `#[traced_handler]`'s
//! server span does), and the event's own fields. The line is formatted on the thread that logs
//! ([`json`]), after [`sampling`] has decided to keep it (`debug_sample_ratio`, the `log_rate_limit`
//! budget, both per trace), and goes through a bounded [`queue`] to a writer thread, which writes it
//! in batches. `mvi_log_events_total{level}` counts the lines queued,
//! `mvi_log_events_sampled_out_total{level,reason}` the lines dropped (`ratio`, `budget`,
//! `queue_full`), and a WARN line a second says how many were kept and dropped while lines are.

mod filter;
mod json;
mod queue;
mod sampling;

use std::cell::Cell;
use std::fmt;
use std::io::Write;
use std::sync::{Arc, Mutex, Once, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

pub(crate) use self::filter::{CLIENT_TARGET, LogFilter};
use self::queue::{Queue, Taken};
use self::sampling::{Class, Sampler, Verdict};
use crate::text::SmallText;
use crate::trace_context::{SpanId, TraceId};

/// Where log lines go.
///
/// # Examples
///
/// ```no_run
/// use std::sync::{Arc, Mutex};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // A file instead of stdout.
/// let file = std::fs::File::create("/var/log/shop.jsonl")?;
/// let telemetry = mvi::Telemetry::builder()
///     .log_output(mvi::LogOutput::Writer(Arc::new(Mutex::new(file))))
///     .install()?;
/// # drop(telemetry);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub enum LogOutput {
    /// Standard output (the default): what container runtimes collect.
    Stdout,
    /// Standard error.
    Stderr,
    /// Any writer, shared (a file, a buffer in a test). Lines reach it from mvi's writer thread:
    /// call [`Telemetry::flush_logs`](crate::Telemetry::flush_logs) before reading it.
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

impl LogOutput {
    fn write_all(&self, bytes: &[u8]) {
        let _ = match self {
            LogOutput::Stdout => std::io::stdout().lock().write_all(bytes),
            LogOutput::Stderr => std::io::stderr().lock().write_all(bytes),
            LogOutput::Writer(w) => w.lock().unwrap_or_else(|e| e.into_inner()).write_all(bytes),
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
///
/// # Examples
///
/// ```
/// assert!(mvi::DEFAULT_LOG_FILTER.starts_with("info,"));
/// // Keep the defaults for the HTTP stacks, with your crate at DEBUG:
/// let filter = format!("{},shop=debug", mvi::DEFAULT_LOG_FILTER);
/// let builder = mvi::Telemetry::builder().log_filter(filter);
/// # drop(builder);
/// ```
pub const DEFAULT_FILTER: &str = "info,hyper=warn,hyper_util=warn,h2=warn,tower=warn,reqwest=warn,opentelemetry=warn,opentelemetry_sdk=warn,opentelemetry_otlp=warn";

/// The target of `#[traced_handler]`'s access lines; the budget reads their `status`.
pub(crate) const ACCESS_TARGET: &str = "mvi::access";

/// The default budget, lines a second; see the README ("Logs") for why this many.
pub(crate) const DEFAULT_RATE_LIMIT: u32 = 1000;

/// The default share of traces whose 4xx access lines are kept over budget.
pub(crate) const DEFAULT_4XX_SAMPLE_RATIO: f64 = 0.01;

/// The longest a flush waits for the writer: at shutdown, at exit, in `flush_logs`.
pub(crate) const FLUSH_TIMEOUT: Duration = Duration::from_secs(2);

/// How often an idle writer wakes to log a pending summary of dropped lines.
const IDLE_TICK: Duration = Duration::from_secs(1);

/// How long the writer waits after a batch before it takes the next: lines logged meanwhile gather
/// into one batch, and the threads logging them find the writer busy, so they do not wake it (a
/// system call each). A line waits at most this long plus a write.
const BATCH_PAUSE: Duration = Duration::from_millis(1);

/// How lines are sampled, as the builder checked it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sampling {
    pub(crate) debug_sample_ratio: f64,
    /// Lines a second; 0: no budget.
    pub(crate) rate_limit: u32,
    pub(crate) sample_4xx_ratio: f64,
}

/// What the logging threads and the writer thread share.
#[derive(Debug)]
struct Shared {
    output: LogOutput,
    queue: Queue,
    sampler: Sampler,
    /// False if the writer thread could not be started: lines are then written by the caller.
    threaded: OnceLock<bool>,
    /// Held while logging a summary of dropped lines; true once the last one is logged (at shutdown,
    /// so that `shutdown complete` stays the last line).
    reports_done: Mutex<bool>,
}

impl Shared {
    /// Queues a line, or writes it when there is no writer thread; false when there was no room.
    fn push(&self, line: &[u8], important: bool) -> bool {
        if *self.threaded.get().unwrap_or(&false) {
            self.queue.push(line, important)
        } else {
            self.output.write_all(line);
            true
        }
    }

    fn flush(&self, timeout: Duration) -> bool {
        if *self.threaded.get().unwrap_or(&false) {
            self.queue.flush(timeout)
        } else {
            self.output.flush();
            true
        }
    }

    /// The writer thread: takes batches, writes and flushes them, and logs what was dropped.
    fn write(&self) {
        let mut batch = Vec::new();
        loop {
            match self.queue.take(&mut batch, IDLE_TICK) {
                Taken::Batch(mark) => {
                    // A writer of the application's own that panics loses this batch, not the thread.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        self.output.write_all(&batch);
                        self.output.flush();
                    }));
                    batch.clear();
                    self.queue.written(mark);
                    std::thread::sleep(BATCH_PAUSE);
                }
                Taken::Idle => {}
                Taken::Closed => return,
            }
            self.sampler.roll(unix_second(SystemTime::now()));
            self.report(false);
        }
    }

    /// Logs the seconds in which lines were dropped, unless the last report is made; `last` makes it,
    /// the current second included.
    fn report(&self, last: bool) {
        let mut done = self.reports_done.lock().unwrap_or_else(|e| e.into_inner());
        if *done {
            return;
        }
        *done = last;
        if let Some(s) = self.sampler.take_summary(last) {
            tracing::warn!(
                target: "mvi::logging",
                kept = s.kept,
                dropped_budget = s.dropped_budget,
                dropped_queue_full = s.dropped_queue_full,
                rate_limit = self.sampler.limit(),
                "log lines dropped: over the log budget (log_rate_limit), or the output is too slow"
            );
        }
    }
}

fn unix_second(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The installed layer's shared state, for [`flush`].
static GLOBAL: OnceLock<Arc<Shared>> = OnceLock::new();

/// Makes `layer` the one [`flush`] and `Telemetry::flush_logs` wait for, and flushes it before the
/// process exits on a panic.
pub(crate) fn make_global(layer: &JsonLayer) {
    let _ = GLOBAL.set(layer.shared.clone());
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            previous(info);
            // A panic ends the process when it unwinds out of `main` or aborts: write what is queued
            // first. Panics that a task or a handler catches go on without waiting.
            if cfg!(panic = "abort") || std::thread::current().name() == Some("main") {
                flush(FLUSH_TIMEOUT);
            }
        }));
    });
}

/// Logs the last summary of dropped lines, if lines were dropped since the one before; none follows.
pub(crate) fn last_report() {
    if let Some(shared) = GLOBAL.get() {
        shared.report(true);
    }
}

/// Waits until every line logged before the call is written and the output flushed, at most
/// `timeout`; false if the time ran out. True when mvi's logs are not installed.
pub(crate) fn flush(timeout: Duration) -> bool {
    GLOBAL.get().is_none_or(|shared| shared.flush(timeout))
}

/// Flushes the logs when dropped (kept by `Telemetry`, so a program that returns from `main` without
/// `shutdown()` still writes its last lines).
#[derive(Debug)]
pub(crate) struct FlushOnDrop;

impl Drop for FlushOnDrop {
    fn drop(&mut self) {
        flush(FLUSH_TIMEOUT);
    }
}

/// One id as its JSON string (quotes included): inline when it fits, as a trace id, a span id or a
/// UUID does, so a span's ids cost no allocation of their own.
type IdText = SmallText<INLINE_ID>;

/// Bytes an [`IdText`] holds inline: a UUID in quotes is 38.
const INLINE_ID: usize = 46;

/// `value` as `digits` lowercase hex digits, quoted.
fn hex_id(value: u128, digits: usize) -> IdText {
    let mut bytes = [b'"'; INLINE_ID];
    crate::trace_context::write_hex(&mut bytes[1..=digits], value);
    SmallText::Inline {
        len: (digits + 2) as u8,
        bytes,
    }
}

/// Writes `"text"` into `slot`, in place (no copy of the id through the stack), when `text` fits
/// inline and needs no JSON escape; false otherwise.
fn set_quoted(slot: &mut Option<IdText>, text: &[u8]) -> bool {
    if text.len() + 2 > INLINE_ID || !json::is_plain(text) {
        return false;
    }
    let id = slot.insert(SmallText::Inline {
        len: (text.len() + 2) as u8,
        bytes: [b'"'; INLINE_ID],
    });
    if let SmallText::Inline { bytes, .. } = id {
        bytes[1..text.len() + 1].copy_from_slice(text);
    }
    true
}

/// The correlation ids a span carries, kept in its extensions as JSON strings, ready to copy.
#[derive(Default, Clone)]
struct Correlation {
    /// `trace_id`, `span_id`, `request_id`.
    ids: [Option<IdText>; 3],
    /// The sampling draw of the trace id.
    draw: Option<u64>,
}

const ID_FIELDS: [&str; 3] = ["trace_id", "span_id", "request_id"];

/// Which of [`ID_FIELDS`] `name` is.
fn id_index(name: &str) -> Option<usize> {
    ID_FIELDS.iter().position(|f| *f == name)
}

impl Correlation {
    /// The ids mvi gives one of its own spans: the trace and span ids (unless they are only known once
    /// the span is exported) and the request id, each written straight into its place.
    #[inline]
    fn given(ids: Option<(TraceId, SpanId)>, request_id: Option<&[u8]>) -> Correlation {
        let mut given = Correlation::default();
        if let Some((trace_id, span_id)) = ids {
            given.ids[0] = Some(hex_id(trace_id.0, 32));
            given.ids[1] = Some(hex_id(u128::from(span_id.0), 16));
            // The draw of a trace id's text is its last 16 digits.
            given.draw = Some(trace_id.0 as u64);
        }
        if let Some(id) = request_id {
            if !set_quoted(&mut given.ids[2], id) {
                let id = String::from_utf8_lossy(id);
                given.set(ID_FIELDS[2], |out| json::string(out, &id));
            }
        }
        given
    }

    /// Keeps the id `name` as the JSON string `write` writes: no allocation when it fits inline.
    fn set(&mut self, name: &str, write: impl FnOnce(&mut Vec<u8>)) {
        let Some(i) = id_index(name) else {
            return;
        };
        with_scratch(|text| {
            write(text);
            let text = std::str::from_utf8(text).unwrap_or("\"\"");
            self.ids[i] = Some(IdText::new(text));
            if i == 0 {
                self.draw = Some(draw(&text[1..text.len() - 1]));
            }
        });
    }
}

impl Visit for Correlation {
    fn record_str(&mut self, field: &Field, value: &str) {
        // Ids are plain text (hex digits, a UUID): quoted as they are, straight into their place.
        if let Some(i) = id_index(field.name()) {
            if set_quoted(&mut self.ids[i], value.as_bytes()) {
                if i == 0 {
                    self.draw = Some(draw(value));
                }
                return;
            }
        }
        self.set(field.name(), |out| json::string(out, value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // `%value` fields arrive here; their Debug is the Display text.
        self.set(field.name(), |out| {
            json::display(out, format_args!("{value:?}"));
        });
    }
}

/// Whether a record names one of [`ID_FIELDS`].
struct NamesAnId(bool);

impl Visit for NamesAnId {
    fn record_debug(&mut self, field: &Field, _: &dyn fmt::Debug) {
        self.0 |= ID_FIELDS.contains(&field.name());
    }
}

/// The sampling draw of a trace id: its last 16 hex digits, random for a random trace id; any other
/// text (a span of the application's own may carry anything) is hashed, so its trace draws alike too.
fn draw(trace_id: &str) -> u64 {
    let tail = trace_id.get(trace_id.len().saturating_sub(16)..);
    let parse = |t: &str| {
        crate::trace_context::hex64(t.as_bytes()).or_else(|| u64::from_str_radix(t, 16).ok())
    };
    match tail.map(|t| (t.len(), parse(t))) {
        Some((16, Some(draw))) => draw,
        _ => {
            use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
            BuildHasherDefault::<DefaultHasher>::default().hash_one(trace_id)
        }
    }
}

/// Per level: lines queued, and lines dropped by reason.
#[derive(Debug)]
struct Counters {
    emitted: [metrics::Counter; 5],
    dropped: [[metrics::Counter; 3]; 5],
}

const LEVELS: [&str; 5] = ["trace", "debug", "info", "warn", "error"];

/// Why a line was dropped, as the `reason` label says it.
#[derive(Clone, Copy)]
enum Reason {
    Ratio = 0,
    Budget = 1,
    QueueFull = 2,
}

const REASONS: [&str; 3] = ["ratio", "budget", "queue_full"];

fn level_index(level: &Level) -> usize {
    match *level {
        Level::TRACE => 0,
        Level::DEBUG => 1,
        Level::INFO => 2,
        Level::WARN => 3,
        _ => 4,
    }
}

/// The budget's class of a line; access lines by their `status`.
fn class(meta: &Metadata<'_>, event: &Event<'_>) -> Class {
    match *meta.level() {
        Level::ERROR | Level::WARN => Class::Kept,
        Level::INFO if meta.target() == "mvi" => Class::Kept,
        Level::INFO if meta.target() == ACCESS_TARGET => {
            let mut status = Status(0);
            event.record(&mut status);
            match status.0 {
                500.. => Class::Kept,
                400..=499 => Class::ClientError,
                _ => Class::Info,
            }
        }
        Level::INFO => Class::Info,
        _ => Class::Debug,
    }
}

/// The `status` field of an access line.
struct Status(u64);

impl Visit for Status {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "status" {
            self.0 = value;
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.record_u64(field, value.try_into().unwrap_or(0));
    }
    fn record_debug(&mut self, _: &Field, _: &dyn fmt::Debug) {}
}

thread_local! {
    /// The ids of the span mvi is creating on this thread, for [`JsonLayer::on_new_span`] to take.
    static GIVEN: Cell<Option<Correlation>> = const { Cell::new(None) };
}

/// Creates one of mvi's own spans with `make`, handing its ids (the same as its `trace_id`, `span_id`
/// and `request_id` fields) to mvi's log layer, which keeps them without visiting the span's fields:
/// the fields can then be `display` values that no layer formats unless it reads them.
pub(crate) fn span_with_ids(
    ids: Option<(TraceId, SpanId)>,
    request_id: Option<&[u8]>,
    make: impl FnOnce() -> tracing::Span,
) -> tracing::Span {
    if GLOBAL.get().is_none() {
        return make();
    }
    let _ = GIVEN.try_with(|g| g.set(Some(Correlation::given(ids, request_id))));
    let span = make();
    // Still there when mvi's layer did not see the span (disabled, or another subscriber's).
    let _ = GIVEN.try_with(Cell::take);
    span
}

thread_local! {
    /// The buffer lines are formatted in, one per thread, kept between lines.
    static SCRATCH: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// The largest scratch buffer a thread keeps between lines.
const SCRATCH_KEEP: usize = 64 << 10;

/// Runs `f` with this thread's scratch buffer, empty (a fresh one if `f` logs in turn).
fn with_scratch<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    let mut buf = SCRATCH.try_with(Cell::take).unwrap_or_default();
    let result = f(&mut buf);
    if buf.capacity() <= SCRATCH_KEEP {
        buf.clear();
        let _ = SCRATCH.try_with(|s| s.set(buf));
    }
    result
}

/// The JSON log layer.
pub(crate) struct JsonLayer {
    shared: Arc<Shared>,
    counters: Counters,
}

impl JsonLayer {
    /// The layer, and its writer thread.
    pub(crate) fn new(
        output: LogOutput,
        sampling: Sampling,
        recorder: &dyn metrics::Recorder,
    ) -> JsonLayer {
        static META: metrics::Metadata<'static> =
            metrics::Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));
        let counter = |name: &'static str, labels: Vec<metrics::Label>| {
            recorder.register_counter(&metrics::Key::from_parts(name, labels), &META)
        };
        let level = |l: &'static str| metrics::Label::from_static_parts("level", l);
        recorder.describe_counter(
            EMITTED.into(),
            None,
            "Log lines queued for writing, by level.".into(),
        );
        recorder.describe_counter(
            SAMPLED_OUT.into(),
            None,
            "Log lines dropped, by level and reason: `ratio` (debug_sample_ratio), `budget` (log_rate_limit), `queue_full` (the output fell behind).".into(),
        );
        let shared = Arc::new(Shared {
            output,
            queue: Queue::new(queue::CAPACITY, queue::RESERVE),
            sampler: Sampler::new(
                sampling.rate_limit,
                sampling.debug_sample_ratio,
                sampling.sample_4xx_ratio,
            ),
            threaded: OnceLock::new(),
            reports_done: Mutex::new(false),
        });
        let writer = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("mvi-log-writer".into())
            .spawn(move || writer.write());
        let _ = shared.threaded.set(spawned.is_ok());
        JsonLayer {
            shared,
            counters: Counters {
                emitted: LEVELS.map(|l| counter(EMITTED, vec![level(l)])),
                dropped: LEVELS.map(|l| {
                    REASONS.map(|r| {
                        counter(
                            SAMPLED_OUT,
                            vec![level(l), metrics::Label::from_static_parts("reason", r)],
                        )
                    })
                }),
            },
        }
    }

    fn dropped(&self, level: usize, reason: Reason) {
        self.counters.dropped[level][reason as usize].increment(1);
    }
}

impl Drop for JsonLayer {
    fn drop(&mut self) {
        self.shared.queue.close();
    }
}

const EMITTED: &str = "mvi_log_events_total";
const SAMPLED_OUT: &str = "mvi_log_events_sampled_out_total";

/// The correlation ids of an event: from the nearest enclosing spans that have them.
#[derive(Default)]
struct Ids {
    ids: [Option<IdText>; 3],
    draw: Option<u64>,
}

impl Ids {
    fn of<S>(event: &Event<'_>, ctx: &Context<'_, S>) -> Ids
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let mut found = Ids::default();
        let Some(scope) = ctx.event_scope(event) else {
            return found;
        };
        for span in scope {
            if let Some(c) = span.extensions().get::<Correlation>() {
                for (mine, theirs) in found.ids.iter_mut().zip(&c.ids) {
                    if mine.is_none() {
                        mine.clone_from(theirs);
                    }
                }
                if found.draw.is_none() && found.ids[0].is_some() {
                    found.draw = c.draw;
                }
            }
            if found.ids.iter().all(Option::is_some) {
                break;
            }
        }
        found
    }
}

/// Writes the line of `event` into `out`.
fn format(out: &mut Vec<u8>, event: &Event<'_>, ids: &Ids, time: SystemTime) {
    let meta = event.metadata();
    out.extend_from_slice(b"{\"time\":\"");
    let _ = write!(out, "{}", humantime::format_rfc3339_micros(time));
    out.extend_from_slice(b"\",\"level\":\"");
    out.extend_from_slice(meta.level().as_str().as_bytes());
    out.extend_from_slice(b"\",\"msg\":");
    let mut message = json::Fields::message(out);
    event.record(&mut message);
    if !message.wrote_message {
        out.extend_from_slice(b"\"\"");
    }
    out.extend_from_slice(b",\"target\":");
    json::string(out, meta.target());
    if let Some(file) = meta.file() {
        out.extend_from_slice(b",\"file\":");
        json::string(out, file);
    }
    if let Some(line) = meta.line() {
        let _ = write!(out, ",\"line\":{line}");
    }
    for (name, id) in ID_FIELDS.iter().zip(&ids.ids) {
        if let Some(id) = id {
            let _ = write!(out, ",\"{name}\":{id}");
        }
    }
    event.record(&mut json::Fields::rest(out));
    out.extend_from_slice(b"}\n");
}

impl<S> Layer<S> for JsonLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        // mvi's own spans come with their ids (`span_with_ids`). Other spans keep a `Correlation`
        // only when they have an id field, filled in its place in the extensions (the field names
        // are the callsite's: no value is visited to find out).
        let given = GIVEN.try_with(Cell::take).ok().flatten();
        if given.is_none() && !attrs.fields().iter().any(|f| id_index(f.name()).is_some()) {
            return;
        }
        if let Some(span) = ctx.span(id) {
            let mut ext = span.extensions_mut();
            match given {
                Some(ids) => ext.insert(ids),
                None => {
                    ext.insert(Correlation::default());
                    if let Some(ids) = ext.get_mut::<Correlation>() {
                        attrs.record(ids);
                    }
                }
            }
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        // Most records (a status code, an error type) carry no id: no need to look the span up.
        let mut any = NamesAnId(false);
        values.record(&mut any);
        if !any.0 {
            return;
        }
        if let Some(span) = ctx.span(id) {
            let mut ext = span.extensions_mut();
            if ext.get_mut::<Correlation>().is_none() {
                ext.insert(Correlation::default());
            }
            if let Some(ids) = ext.get_mut::<Correlation>() {
                values.record(ids);
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        let level = level_index(meta.level());
        let class = class(meta, event);
        let ids = Ids::of(event, &ctx);
        let time = SystemTime::now();
        let draw = ids
            .draw
            .or_else(|| crate::context::current().map(|cx| cx.trace_id.0 as u64))
            .unwrap_or_else(crate::trace_context::random_u64);
        match self.shared.sampler.admit(class, draw, unix_second(time)) {
            Verdict::Keep => {}
            Verdict::Ratio => return self.dropped(level, Reason::Ratio),
            Verdict::Budget => return self.dropped(level, Reason::Budget),
        }
        // WARN, ERROR and mvi's own lines (`shutdown complete`...) may use the queue's reserve.
        let queued = with_scratch(|line| {
            format(line, event, &ids, time);
            self.shared.push(line, class == Class::Kept)
        });
        if queued {
            self.counters.emitted[level].increment(1);
        } else {
            self.shared.sampler.queue_full();
            self.dropped(level, Reason::QueueFull);
        }
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

    /// A layer writing into `buffer`, and its shared state, to flush.
    fn layer(buffer: &Arc<Mutex<Vec<u8>>>, ratio: f64) -> (JsonLayer, Arc<Shared>) {
        let sampling = Sampling {
            debug_sample_ratio: ratio,
            rate_limit: 0,
            sample_4xx_ratio: 0.01,
        };
        let layer = JsonLayer::new(
            LogOutput::Writer(buffer.clone()),
            sampling,
            &metrics::NoopRecorder,
        );
        let shared = layer.shared.clone();
        (layer, shared)
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
            let (layer, shared) = layer(&buffer, 0.5);
            let subscriber = tracing_subscriber::registry().with(layer);
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
            prop_assert!(shared.flush(Duration::from_secs(60)));
            let written = String::from_utf8(buffer.lock().unwrap().clone()).unwrap();
            for line in written.lines() {
                let parsed: serde_json::Value = serde_json::from_str(line).unwrap();
                prop_assert!(parsed.is_object());
                prop_assert_eq!(&parsed["trace_id"], &serde_json::json!(span_ids[0]));
                prop_assert_eq!(&parsed["request_id"], &serde_json::json!(span_ids[2]));
                // A field of its own name, not one of the line's own keys, keeps its value.
                let plain = |n: &str| names.iter().filter(|m| *m == n).count() == 1
                    && n != "message" && !json::BUILT_IN.contains(&n);
                if plain(&names[0]) {
                    prop_assert_eq!(&parsed[&names[0]], &serde_json::json!(text));
                }
                if plain(&names[1]) {
                    prop_assert_eq!(&parsed[&names[1]], &serde_json::json!(number));
                }
                if names[0] == "message" {
                    prop_assert_eq!(&parsed["msg"], &serde_json::json!(text));
                }
            }
            prop_assert!(written.lines().count() <= 1);
            if !debug {
                prop_assert_eq!(written.lines().count(), 1);
            }
        }
    }
}
