//! Series kept in plain atomics: a counter is one `fetch_add`, a histogram one bucket increment and one
//! sum update. Nothing is buffered between scrapes, so memory does not grow with traffic.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use metrics::{CounterFn, HistogramFn};

/// A counter kept by mvi.
#[derive(Debug, Default)]
pub(crate) struct NativeCounter(AtomicU64);

impl NativeCounter {
    #[inline]
    pub(crate) fn add(&self, n: u64) {
        self.0.fetch_add(n, Relaxed);
    }

    pub(crate) fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

impl CounterFn for NativeCounter {
    fn increment(&self, value: u64) {
        self.add(value);
    }

    fn absolute(&self, value: u64) {
        self.0.fetch_max(value, Relaxed);
    }
}

/// A histogram with fixed bucket bounds, recorded with relaxed atomics.
#[derive(Debug)]
pub(crate) struct FixedHistogram {
    bounds: &'static [f64],
    /// The bounds in whole nanoseconds, for durations recorded as such.
    bounds_ns: Box<[u64]>,
    /// Per-bucket (not cumulative) counts; the last one is `+Inf`.
    counts: Box<[AtomicU64]>,
    /// Sum of values recorded as `f64`, as `f64` bits.
    sum: AtomicU64,
    /// Sum of durations recorded in nanoseconds.
    sum_ns: AtomicU64,
}

/// A histogram read at one moment: cumulative bucket counts (the last is `+Inf`), sum and count.
pub(crate) struct Snapshot {
    pub(crate) cumulative: Vec<u64>,
    pub(crate) sum: f64,
    pub(crate) count: u64,
}

impl FixedHistogram {
    pub(crate) fn new(bounds: &'static [f64]) -> Self {
        let counts = (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect();
        let bounds_ns = bounds.iter().map(|b| (b * 1e9).floor() as u64).collect();
        FixedHistogram {
            bounds,
            bounds_ns,
            counts,
            sum: AtomicU64::new(0f64.to_bits()),
            sum_ns: AtomicU64::new(0),
        }
    }

    /// The upper bounds of the buckets, `+Inf` not included.
    pub(crate) fn bounds(&self) -> &'static [f64] {
        self.bounds
    }

    /// Records a duration in nanoseconds: integer compares and two `fetch_add`s.
    #[inline]
    pub(crate) fn record_nanos(&self, nanos: u64) {
        let index = self.bounds_ns.partition_point(|b| *b < nanos);
        self.counts[index].fetch_add(1, Relaxed);
        self.sum_ns.fetch_add(nanos, Relaxed);
    }

    /// Reads the histogram without stopping writers.
    pub(crate) fn snapshot(&self) -> Snapshot {
        let mut total = 0;
        let cumulative = self
            .counts
            .iter()
            .map(|c| {
                total += c.load(Relaxed);
                total
            })
            .collect();
        let sum = f64::from_bits(self.sum.load(Relaxed)) + self.sum_ns.load(Relaxed) as f64 * 1e-9;
        Snapshot {
            cumulative,
            sum,
            count: total,
        }
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
        self.counts[index].fetch_add(1, Relaxed);
        let mut current = self.sum.load(Relaxed);
        loop {
            let next = (f64::from_bits(current) + value).to_bits();
            match self
                .sum
                .compare_exchange_weak(current, next, Relaxed, Relaxed)
            {
                Ok(_) => break,
                Err(seen) => current = seen,
            }
        }
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
}
