//! Exemplars: the trace of one recent sample of a counter or of a histogram bucket, shown in the
//! OpenMetrics exposition so that a point on a graph leads to the trace and the log lines behind it.
//!
//! The rules keep the record path as it is for calls outside a sampled trace, and cheap inside one:
//!
//! - outside a sampled trace nothing happens beyond reading the thread's context (one thread-local read);
//! - inside one, a slot is read (a relaxed load of its last write time) and written at most once per
//!   [`MIN_INTERVAL`] per bucket: the writer that wins a compare-and-swap on that time writes, every
//!   other call goes on. So the slot's cache line is written at most ten times a second, however many
//!   cores record into the bucket, and the record path takes no lock;
//! - slots are allocated the first time a series records inside a sampled trace, so series that never
//!   do cost no memory for them;
//! - a slot is a sequence lock: the exposition retries a read that raced a write, and skips the
//!   exemplar if writes keep racing it.
//!
//! A slot keeps the exemplar most recently written, which is at most [`MIN_INTERVAL`] older than the
//! latest sample recorded in a sampled trace.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering, fence};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::context::{self, SpanContext};
use crate::trace_context::{SpanId, TraceId};

/// The shortest time between two writes of one slot.
pub(crate) const MIN_INTERVAL: Duration = Duration::from_millis(100);
const MIN_INTERVAL_NS: u64 = MIN_INTERVAL.as_nanos() as u64;

/// A sample recorded inside a sampled trace: the trace and span, and when (monotonic nanoseconds).
#[derive(Clone, Copy, Debug)]
pub(crate) struct InTrace {
    cx: SpanContext,
    now_ns: u64,
}

/// The current context when it is sampled, and the time: what the record paths offer to exemplar
/// slots. `None`, after one thread-local read, outside a sampled trace.
#[inline]
pub(crate) fn current() -> Option<InTrace> {
    in_trace(context::current(), || clock().raw())
}

/// `cx`, when it is sampled, with the time of [`clock()`]'s tick `tick()` (a call site hands the tick
/// it read for the duration, so an exemplar costs no clock read of its own).
#[inline]
pub(crate) fn in_trace(cx: Option<SpanContext>, tick: impl FnOnce() -> u64) -> Option<InTrace> {
    match cx {
        Some(cx) if cx.is_sampled() => Some(InTrace {
            cx,
            now_ns: clock().delta_as_nanos(0, tick()),
        }),
        _ => None,
    }
}

/// The clock of exemplar slots: the TSC through `quanta` where it is reliable, else the monotonic clock.
/// `install` times calls with the same one.
pub(crate) fn clock() -> &'static quanta::Clock {
    static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();
    CLOCK.get_or_init(quanta::Clock::new)
}

/// An exemplar as the exposition shows it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Exemplar {
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
    /// The sample's value: the duration in seconds, or the counter's increment.
    pub(crate) value: f64,
    /// When it was recorded, in milliseconds since the Unix epoch.
    pub(crate) unix_ms: u64,
}

/// The exemplar slots of one series: one for a counter, one per bucket for a histogram.
#[derive(Debug, Default)]
pub(crate) struct Exemplars(OnceLock<Box<[Slot]>>);

impl Exemplars {
    pub(crate) const fn new() -> Self {
        Exemplars(OnceLock::new())
    }

    /// Offers a sample to slot `index` of `len`; kept if the slot was not written in the last
    /// [`MIN_INTERVAL`].
    #[inline]
    pub(crate) fn offer(&self, len: usize, index: usize, at: &InTrace, value: f64) {
        let slots = self
            .0
            .get_or_init(|| (0..len).map(|_| Slot::default()).collect());
        if let Some(slot) = slots.get(index) {
            slot.offer(at, value);
        }
    }

    /// The exemplar of slot `index`, if one was written.
    pub(crate) fn get(&self, index: usize) -> Option<Exemplar> {
        self.0.get()?.get(index)?.read()
    }
}

/// One exemplar behind a sequence lock.
#[derive(Debug, Default)]
struct Slot {
    /// Monotonic time of the last write (0: never): read on every offer, written once per interval.
    written_ns: AtomicU64,
    /// Odd while a write is under way; 0 until the first write completes.
    seq: AtomicU64,
    trace_hi: AtomicU64,
    trace_lo: AtomicU64,
    span: AtomicU64,
    value: AtomicU64,
    unix_ms: AtomicU64,
}

impl Slot {
    #[inline]
    fn offer(&self, at: &InTrace, value: f64) {
        let last = self.written_ns.load(Ordering::Relaxed);
        if last != 0 && at.now_ns < last.saturating_add(MIN_INTERVAL_NS) {
            return;
        }
        self.write(last, at, value);
    }

    #[cold]
    #[inline(never)]
    fn write(&self, last: u64, at: &InTrace, value: f64) {
        // One writer per interval: the one that moves the time on.
        let relaxed = Ordering::Relaxed;
        if self
            .written_ns
            .compare_exchange(last, at.now_ns, relaxed, relaxed)
            .is_err()
        {
            return;
        }
        // A writer of an earlier interval may still be writing (if it was descheduled): leave it be.
        let seq = self.seq.load(relaxed);
        if seq % 2 == 1
            || self
                .seq
                .compare_exchange(seq, seq + 1, relaxed, relaxed)
                .is_err()
        {
            return;
        }
        fence(Ordering::Release);
        let unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        self.trace_hi
            .store((at.cx.trace_id.0 >> 64) as u64, relaxed);
        self.trace_lo.store(at.cx.trace_id.0 as u64, relaxed);
        self.span.store(at.cx.span_id.0, relaxed);
        self.value.store(value.to_bits(), relaxed);
        self.unix_ms.store(unix_ms, relaxed);
        self.seq.store(seq + 2, Ordering::Release);
    }

    fn read(&self) -> Option<Exemplar> {
        let relaxed = Ordering::Relaxed;
        for _ in 0..64 {
            let before = self.seq.load(Ordering::Acquire);
            if before == 0 {
                return None;
            }
            if before % 2 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let exemplar = Exemplar {
                trace_id: TraceId(
                    u128::from(self.trace_hi.load(relaxed)) << 64
                        | u128::from(self.trace_lo.load(relaxed)),
                ),
                span_id: SpanId(self.span.load(relaxed)),
                value: f64::from_bits(self.value.load(relaxed)),
                unix_ms: self.unix_ms.load(relaxed),
            };
            fence(Ordering::Acquire);
            if self.seq.load(relaxed) == before {
                return Some(exemplar);
            }
        }
        None
    }
}

#[cfg(test)]
pub(crate) fn in_trace_at(cx: SpanContext, now_ns: u64) -> InTrace {
    InTrace { cx, now_ns }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx(trace: u128, span: u64, flags: u8) -> SpanContext {
        SpanContext {
            trace_id: TraceId(trace),
            span_id: SpanId(span),
            flags,
        }
    }

    #[test]
    fn a_slot_keeps_one_write_per_interval() {
        let exemplars = Exemplars::new();
        assert_eq!(exemplars.get(0), None);
        let first = in_trace_at(cx(u128::MAX - 1, 7, 1), 1_000);
        exemplars.offer(3, 1, &first, 0.25);
        let kept = exemplars.get(1).unwrap();
        assert_eq!(kept.trace_id, TraceId(u128::MAX - 1));
        assert_eq!(kept.span_id, SpanId(7));
        assert_eq!(kept.value, 0.25);
        assert!(kept.unix_ms > 1_700_000_000_000, "{}", kept.unix_ms);
        assert_eq!(exemplars.get(0), None, "other buckets are untouched");
        // Within the interval the slot keeps what it has; after it, the next sample replaces it.
        exemplars.offer(
            3,
            1,
            &in_trace_at(cx(2, 8, 1), 1_000 + MIN_INTERVAL_NS - 1),
            0.5,
        );
        assert_eq!(exemplars.get(1).unwrap().trace_id, TraceId(u128::MAX - 1));
        exemplars.offer(
            3,
            1,
            &in_trace_at(cx(3, 9, 1), 1_000 + MIN_INTERVAL_NS),
            0.75,
        );
        let kept = exemplars.get(1).unwrap();
        assert_eq!(
            (kept.trace_id, kept.span_id, kept.value),
            (TraceId(3), SpanId(9), 0.75)
        );
        // An index past the slots (a series of another length) is ignored.
        exemplars.offer(3, 9, &first, 1.0);
    }

    #[test]
    fn only_a_sampled_context_gives_a_time() {
        let tick = || clock().raw();
        assert!(in_trace(None, tick).is_none());
        assert!(in_trace(Some(cx(1, 1, 0)), tick).is_none());
        assert!(in_trace(Some(cx(1, 1, 0x02)), tick).is_none());
        let at = in_trace(Some(cx(1, 1, 0x01)), tick).unwrap();
        assert!(at.now_ns > 0);
        assert!(current().is_none(), "no context on a test thread");
    }

    #[test]
    fn reads_never_see_a_torn_exemplar() {
        // Writers store (trace, span, value) that agree; a reader must never see a mixture.
        let exemplars = std::sync::Arc::new(Exemplars::new());
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writers: Vec<_> = (1..=2u64)
            .map(|w| {
                let (exemplars, stop) = (exemplars.clone(), stop.clone());
                std::thread::spawn(move || {
                    let mut now = w;
                    while !stop.load(Ordering::Relaxed) {
                        now += MIN_INTERVAL_NS;
                        let n = now;
                        let at = in_trace_at(cx(u128::from(n) << 64 | u128::from(n), n, 1), now);
                        exemplars.offer(1, 0, &at, n as f64);
                    }
                })
            })
            .collect();
        let (mut seen, mut distinct, mut last) = (0, 0, 0);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while distinct < 1_000 && std::time::Instant::now() < deadline {
            if let Some(e) = exemplars.get(0) {
                let n = e.span_id.0;
                assert_eq!(e.trace_id.0, u128::from(n) << 64 | u128::from(n));
                assert_eq!(e.value, n as f64);
                seen += 1;
                distinct += usize::from(n != last);
                last = n;
            }
        }
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            w.join().unwrap();
        }
        assert!(
            seen > 0 && distinct > 1,
            "{seen} reads, {distinct} writes seen"
        );
    }
}
