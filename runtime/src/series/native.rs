//! Series kept in plain atomics, split into [shards](super::shard) so that threads on different cores
//! write different cache lines: a counter is one `fetch_add` in the thread's shard, a histogram one
//! bucket increment and one sum update in it. A scrape sums the shards, exactly. Nothing is buffered
//! between scrapes, so memory does not grow with traffic.

use std::sync::atomic::Ordering::Relaxed;

use metrics::{CounterFn, HistogramFn};

use super::shard::Sharded;

/// A counter kept by mvi: one word per shard.
#[derive(Debug)]
pub(crate) struct NativeCounter(Sharded);

impl Default for NativeCounter {
    fn default() -> Self {
        NativeCounter(Sharded::new(1))
    }
}

impl NativeCounter {
    #[inline]
    pub(crate) fn add(&self, n: u64) {
        self.0.local().word(0).fetch_add(n, Relaxed);
    }

    pub(crate) fn get(&self) -> u64 {
        self.0.sum(0)
    }

    /// Bytes the series holds now.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        size_of::<Self>() + self.0.bytes()
    }
}

impl CounterFn for NativeCounter {
    fn increment(&self, value: u64) {
        self.add(value);
    }

    /// Raises the counter to `value` if it is below (what the `metrics` facade asks for a counter
    /// read from elsewhere); a raise racing another on a second shard may overshoot by the other's.
    fn absolute(&self, value: u64) {
        let now = self.get();
        if value > now {
            self.add(value - now);
        }
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
        }
    }

    /// The upper bounds of the buckets, `+Inf` not included.
    pub(crate) fn bounds(&self) -> &'static [f64] {
        self.bounds
    }

    fn sum_ns_word(&self) -> usize {
        self.bounds.len() + 1
    }

    fn sum_word(&self) -> usize {
        self.bounds.len() + 2
    }

    /// Records a duration in nanoseconds: integer compares and two `fetch_add`s.
    #[inline]
    pub(crate) fn record_nanos(&self, nanos: u64) {
        let index = self.bounds_ns.partition_point(|b| *b < nanos);
        let shard = self.shards.local();
        shard.word(index).fetch_add(1, Relaxed);
        shard.word(self.sum_ns_word()).fetch_add(nanos, Relaxed);
    }

    /// Reads the histogram without stopping writers. The count is the sum of the buckets read, so a
    /// scrape's `_count` is always its `+Inf` bucket.
    pub(crate) fn snapshot(&self) -> Snapshot {
        let mut total = 0;
        let cumulative = (0..=self.bounds.len())
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

    /// Bytes the series holds now.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        size_of::<Self>() + size_of_val(&*self.bounds_ns) + self.shards.bytes()
    }
}

impl HistogramFn for FixedHistogram {
    #[inline]
    fn record(&self, value: f64) {
        let index = if value.is_nan() {
            self.bounds.len()
        } else {
            self.bounds.partition_point(|b| *b < value)
        };
        let shard = self.shards.local();
        shard.word(index).fetch_add(1, Relaxed);
        // The shard's own word: another thread writes it only when more threads record than there are
        // shards, so this loop almost never goes round twice.
        let sum = shard.word(self.sum_word());
        let _ = sum.fetch_update(Relaxed, Relaxed, |bits| {
            Some((f64::from_bits(bits) + value).to_bits())
        });
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
        h.record_nanos(100_000_000);
        h.record_nanos(100_000_001);
        let s = h.snapshot();
        assert_eq!(s.cumulative, [3, 6, 7]);
        assert_eq!(s.count, 7);
        assert!((s.sum - 8.850_000_001).abs() < 1e-9, "{}", s.sum);
        h.record(f64::NAN);
        assert!(h.snapshot().sum.is_nan());
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
                        c.add(1);
                        h.record_nanos((i % 3) * 4_000_000 + t);
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

    /// What the README reports: the bytes of a counter and of a histogram of the default buckets, with
    /// one shard recorded into and with every shard recorded into (the shards are this machine's).
    #[test]
    fn memory_per_series() {
        use crate::series::shard::{self, count};
        let n = count();
        let c = NativeCounter::default();
        let h = FixedHistogram::new(crate::series::DEFAULT_BUCKETS);
        let table = n * size_of::<std::sync::OnceLock<Box<[shard::Line]>>>();
        assert_eq!(c.bytes(), 24 + table);
        assert_eq!(h.bytes(), 56 + 14 * 8 + table);
        c.add(1);
        h.record_nanos(1);
        assert_eq!(c.bytes(), 24 + table + 128, "one block: one line");
        assert_eq!(h.bytes(), 56 + 14 * 8 + table + 256, "17 words: two lines");
        println!(
            "{n} shards: counter {} to {} bytes, histogram {} to {} bytes",
            c.bytes(),
            24 + table + n * 128,
            h.bytes(),
            56 + 14 * 8 + table + n * 256
        );
    }
}
