//! Series kept in plain atomics. Counters and histograms are split into [shards](super::shard) so
//! that threads on different cores write different cache lines: a counter is one `fetch_add` in the
//! thread's shard, a histogram one bucket increment and one sum update in it. A scrape sums the shards,
//! exactly. Exemplars are kept per series, written at most once per interval per bucket
//! ([`exemplar`]), so they bring no shared write back to the record path. Nothing is buffered between
//! scrapes, so memory does not grow with traffic.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use metrics::{CounterFn, GaugeFn, HistogramFn};

use super::exemplar::{self, Exemplar, Exemplars, InTrace};
use super::shard::Sharded;

/// A counter kept by mvi, one word per shard, with the exemplar of its latest increment inside a
/// sampled trace.
#[derive(Debug)]
pub(crate) struct NativeCounter {
    shards: Sharded,
    exemplar: Exemplars,
}

impl Default for NativeCounter {
    fn default() -> Self {
        NativeCounter {
            shards: Sharded::new(1),
            exemplar: Exemplars::new(),
        }
    }
}

impl NativeCounter {
    /// Adds `n`; `at` is the sampled trace the increment happens in, if any.
    #[inline]
    pub(crate) fn add(&self, n: u64, at: Option<&InTrace>) {
        self.shards.local().word(0).fetch_add(n, Relaxed);
        if let Some(at) = at {
            self.exemplar.offer(1, 0, at, n as f64);
        }
    }

    pub(crate) fn get(&self) -> u64 {
        self.shards.sum(0)
    }

    pub(crate) fn exemplar(&self) -> Option<Exemplar> {
        self.exemplar.get(0)
    }

    /// Bytes the series holds now, exemplars aside.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        size_of::<Self>() + self.shards.bytes()
    }
}

impl CounterFn for NativeCounter {
    fn increment(&self, value: u64) {
        self.add(value, exemplar::current().as_ref());
    }

    /// Raises the counter to `value` if it is below (what the `metrics` facade asks for a counter
    /// read from elsewhere); a raise racing another on a second shard may overshoot by the other's.
    fn absolute(&self, value: u64) {
        let now = self.get();
        if value > now {
            self.add(value - now, None);
        }
    }
}

/// A gauge kept by mvi: an `f64` in an atomic.
#[derive(Debug, Default)]
pub(crate) struct NativeGauge(AtomicU64);

impl NativeGauge {
    pub(crate) fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Relaxed))
    }

    fn update(&self, f: impl Fn(f64) -> f64) {
        let _ = self.0.fetch_update(Relaxed, Relaxed, |bits| {
            Some(f(f64::from_bits(bits)).to_bits())
        });
    }
}

impl GaugeFn for NativeGauge {
    fn increment(&self, value: f64) {
        self.update(|v| v + value);
    }

    fn decrement(&self, value: f64) {
        self.update(|v| v - value);
    }

    fn set(&self, value: f64) {
        self.0.store(value.to_bits(), Relaxed);
    }
}

/// A histogram with fixed bucket bounds, recorded with relaxed atomics in the thread's shard.
///
/// Each shard holds the per-bucket (not cumulative) counts, the last one `+Inf`, then the sum of
/// durations recorded in nanoseconds, then the sum of values recorded as `f64` (as bits).
#[derive(Debug)]
pub(crate) struct FixedHistogram {
    bounds: &'static [f64],
    /// The bounds in whole nanoseconds, for durations recorded as such.
    bounds_ns: Box<[u64]>,
    shards: Sharded,
    /// The exemplar of each bucket.
    exemplars: Exemplars,
}

/// A histogram read at one moment: cumulative bucket counts (the last is `+Inf`), sum and count.
pub(crate) struct Snapshot {
    pub(crate) cumulative: Vec<u64>,
    pub(crate) sum: f64,
    pub(crate) count: u64,
}

impl FixedHistogram {
    pub(crate) fn new(bounds: &'static [f64]) -> Self {
        let bounds_ns = bounds.iter().map(|b| (b * 1e9).floor() as u64).collect();
        FixedHistogram {
            bounds,
            bounds_ns,
            shards: Sharded::new(bounds.len() + 3),
            exemplars: Exemplars::new(),
        }
    }

    /// The upper bounds of the buckets, `+Inf` not included.
    pub(crate) fn bounds(&self) -> &'static [f64] {
        self.bounds
    }

    /// Buckets, `+Inf` included.
    fn buckets(&self) -> usize {
        self.bounds.len() + 1
    }

    /// The word of the sum of durations, after the buckets.
    fn sum_ns_word(&self) -> usize {
        self.bounds.len() + 1
    }

    /// The word of the sum of values, after that.
    fn sum_word(&self) -> usize {
        self.bounds.len() + 2
    }

    /// Records a duration in nanoseconds: integer compares and two `fetch_add`s in the thread's shard.
    /// `at` is the sampled trace the call ran in, if any.
    #[inline]
    pub(crate) fn record_nanos(&self, nanos: u64, at: Option<&InTrace>) {
        let index = self.bounds_ns.partition_point(|b| *b < nanos);
        let shard = self.shards.local();
        shard.word(index).fetch_add(1, Relaxed);
        shard.word(self.sum_ns_word()).fetch_add(nanos, Relaxed);
        if let Some(at) = at {
            self.exemplars
                .offer(self.buckets(), index, at, nanos as f64 / 1e9);
        }
    }

    /// Records a value. A NaN is counted in the `+Inf` bucket but left out of the sum, which would
    /// otherwise stay NaN for the life of the series (and OpenMetrics forbids a NaN sum).
    #[inline]
    pub(crate) fn observe(&self, value: f64, at: Option<&InTrace>) {
        let shard = self.shards.local();
        if value.is_nan() {
            shard.word(self.bounds.len()).fetch_add(1, Relaxed);
            return;
        }
        let index = self.bounds.partition_point(|b| *b < value);
        shard.word(index).fetch_add(1, Relaxed);
        // The shard's own word: another thread writes it only when more threads record than there are
        // shards, so this loop almost never goes round twice.
        let _ = shard
            .word(self.sum_word())
            .fetch_update(Relaxed, Relaxed, |bits| {
                Some((f64::from_bits(bits) + value).to_bits())
            });
        if let Some(at) = at {
            self.exemplars.offer(self.buckets(), index, at, value);
        }
    }

    /// The exemplar of bucket `index` (the last is `+Inf`), if one was recorded.
    pub(crate) fn exemplar(&self, index: usize) -> Option<Exemplar> {
        self.exemplars.get(index)
    }

    /// Reads the histogram without stopping writers. The count is the sum of the buckets read, so a
    /// scrape's `_count` is always its `+Inf` bucket.
    pub(crate) fn snapshot(&self) -> Snapshot {
        let mut total = 0;
        let cumulative = (0..self.buckets())
            .map(|i| {
                total += self.shards.sum(i);
                total
            })
            .collect();
        let sum = self
            .shards
            .blocks()
            .map(|b| f64::from_bits(b.word(self.sum_word()).load(Relaxed)))
            .sum::<f64>()
            + self.shards.sum(self.sum_ns_word()) as f64 * 1e-9;
        Snapshot {
            cumulative,
            sum,
            count: total,
        }
    }

    /// Bytes the series holds now, exemplars aside.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        size_of::<Self>() + size_of_val(&*self.bounds_ns) + self.shards.bytes()
    }
}

impl HistogramFn for FixedHistogram {
    #[inline]
    fn record(&self, value: f64) {
        self.observe(value, exemplar::current().as_ref());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_inclusive_upper_bounds() {
        let h = FixedHistogram::new(&[0.1, 1.0]);
        for v in [0.05, 0.1, 0.5, 1.0, 7.0] {
            h.record(v);
        }
        h.record_nanos(100_000_000, None);
        h.record_nanos(100_000_001, None);
        let s = h.snapshot();
        assert_eq!(s.cumulative, [3, 6, 7]);
        assert_eq!(s.count, 7);
        assert!((s.sum - 8.850_000_001).abs() < 1e-9, "{}", s.sum);
        h.record(f64::NAN);
        assert!(
            (h.snapshot().sum - 8.850_000_001).abs() < 1e-9,
            "NaN is not summed"
        );
        assert_eq!(h.snapshot().cumulative, [3, 6, 8]);
    }

    #[test]
    fn threads_on_every_shard_add_up_exactly() {
        let c = NativeCounter::default();
        let h = FixedHistogram::new(&[0.001, 0.01]);
        std::thread::scope(|scope| {
            for t in 0..8u64 {
                let (c, h) = (&c, &h);
                scope.spawn(move || {
                    for i in 0..10_000u64 {
                        c.add(1, None);
                        h.record_nanos((i % 3) * 4_000_000 + t, None);
                    }
                });
            }
        });
        assert_eq!(c.get(), 80_000);
        let s = h.snapshot();
        // i % 3 == 0: under 8 ns (first bucket); 1 and 2: 4 and 8 ms (second).
        assert_eq!(s.cumulative, [8 * 3334, 80_000, 80_000]);
        assert_eq!(s.count, 80_000);
        c.absolute(80_005);
        c.absolute(3);
        assert_eq!(c.get(), 80_005);
    }

    #[test]
    fn samples_in_a_sampled_trace_leave_exemplars_in_their_bucket() {
        use crate::context::SpanContext;
        use crate::trace_context::{SpanId, TraceId};
        let cx = SpanContext {
            trace_id: TraceId(0xabc),
            span_id: SpanId(0xdef),
            flags: 1,
        };
        let at = exemplar::in_trace_at(cx, 1);
        let h = FixedHistogram::new(&[0.1, 1.0]);
        h.record_nanos(500_000_000, Some(&at));
        h.observe(7.0, Some(&at));
        h.record_nanos(50_000_000, None);
        assert_eq!(h.exemplar(0), None);
        let bucket = h.exemplar(1).unwrap();
        assert_eq!(
            (bucket.trace_id, bucket.span_id, bucket.value),
            (cx.trace_id, cx.span_id, 0.5)
        );
        assert_eq!(h.exemplar(2).unwrap().value, 7.0);
        let c = NativeCounter::default();
        c.add(1, None);
        assert_eq!(c.exemplar(), None);
        c.add(2, Some(&at));
        assert_eq!((c.get(), c.exemplar().unwrap().value), (3, 2.0));
    }

    #[test]
    fn gauges_go_up_down_and_are_set() {
        let g = NativeGauge::default();
        g.increment(2.0);
        g.decrement(0.5);
        assert_eq!(g.get(), 1.5);
        g.set(f64::INFINITY);
        assert_eq!(g.get(), f64::INFINITY);
    }

    /// What the README reports: the bytes of a counter and of a histogram of the default buckets, with
    /// one shard recorded into and with every shard recorded into (the shards are this machine's).
    /// Exemplar slots come on top, only for series recorded inside a sampled trace.
    #[test]
    fn memory_per_series() {
        use crate::series::shard::{self, count};
        let n = count();
        let c = NativeCounter::default();
        let h = FixedHistogram::new(crate::series::DEFAULT_BUCKETS);
        let table = n * size_of::<std::sync::OnceLock<Box<[shard::Line]>>>();
        let (counter, histogram) = (size_of::<NativeCounter>(), size_of::<FixedHistogram>());
        assert_eq!(c.bytes(), counter + table);
        assert_eq!(h.bytes(), histogram + 14 * 8 + table);
        c.add(1, None);
        h.record_nanos(1, None);
        assert_eq!(c.bytes(), counter + table + 128, "one block: one line");
        assert_eq!(
            h.bytes(),
            histogram + 14 * 8 + table + 256,
            "17 words: two lines"
        );
        println!(
            "{n} shards: counter {} to {} bytes, histogram {} to {} bytes",
            c.bytes(),
            counter + table + n * 128,
            h.bytes(),
            histogram + 14 * 8 + table + n * 256
        );
    }
}
