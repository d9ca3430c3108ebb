//! Series kept in plain atomics: a counter is one `fetch_add`, a histogram one bucket increment and one
//! sum update. Nothing is buffered between scrapes, so memory does not grow with traffic.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use metrics::{CounterFn, GaugeFn, HistogramFn};

use super::exemplar::{self, Exemplar, Exemplars, InTrace};

/// A counter kept by mvi, with the exemplar of its latest increment inside a sampled trace.
#[derive(Debug, Default)]
pub(crate) struct NativeCounter {
    value: AtomicU64,
    exemplar: Exemplars,
}

impl NativeCounter {
    /// Adds `n`; `at` is the sampled trace the increment happens in, if any.
    #[inline]
    pub(crate) fn add(&self, n: u64, at: Option<&InTrace>) {
        self.value.fetch_add(n, Relaxed);
        if let Some(at) = at {
            self.exemplar.offer(1, 0, at, n as f64);
        }
    }

    pub(crate) fn get(&self) -> u64 {
        self.value.load(Relaxed)
    }

    pub(crate) fn exemplar(&self) -> Option<Exemplar> {
        self.exemplar.get(0)
    }
}

impl CounterFn for NativeCounter {
    fn increment(&self, value: u64) {
        self.add(value, exemplar::current().as_ref());
    }

    fn absolute(&self, value: u64) {
        self.value.fetch_max(value, Relaxed);
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
        let counts = (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect();
        let bounds_ns = bounds.iter().map(|b| (b * 1e9).floor() as u64).collect();
        FixedHistogram {
            bounds,
            bounds_ns,
            counts,
            sum: AtomicU64::new(0f64.to_bits()),
            sum_ns: AtomicU64::new(0),
            exemplars: Exemplars::new(),
        }
    }

    /// The upper bounds of the buckets, `+Inf` not included.
    pub(crate) fn bounds(&self) -> &'static [f64] {
        self.bounds
    }

    /// Records a duration in nanoseconds: integer compares and two `fetch_add`s. `at` is the sampled
    /// trace the call ran in, if any.
    #[inline]
    pub(crate) fn record_nanos(&self, nanos: u64, at: Option<&InTrace>) {
        let index = self.bounds_ns.partition_point(|b| *b < nanos);
        self.counts[index].fetch_add(1, Relaxed);
        self.sum_ns.fetch_add(nanos, Relaxed);
        if let Some(at) = at {
            self.exemplars
                .offer(self.counts.len(), index, at, nanos as f64 / 1e9);
        }
    }

    /// Records a value. A NaN is counted in the `+Inf` bucket but left out of the sum, which would
    /// otherwise stay NaN for the life of the series (and OpenMetrics forbids a NaN sum).
    #[inline]
    pub(crate) fn observe(&self, value: f64, at: Option<&InTrace>) {
        if value.is_nan() {
            self.counts[self.bounds.len()].fetch_add(1, Relaxed);
            return;
        }
        let index = self.bounds.partition_point(|b| *b < value);
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
        if let Some(at) = at {
            self.exemplars.offer(self.counts.len(), index, at, value);
        }
    }

    /// The exemplar of bucket `index` (the last is `+Inf`), if one was recorded.
    pub(crate) fn exemplar(&self, index: usize) -> Option<Exemplar> {
        self.exemplars.get(index)
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
}
