//! Which lines are written: DEBUG and TRACE sampled by `debug_sample_ratio`, and a budget of lines a
//! second (`log_rate_limit`) that samples by trace when more are offered.
//!
//! Every decision compares the line's *draw* with a threshold. The draw comes from the trace id (its
//! low 64 bits: random for a random trace id), so every line of a trace draws the same number and a
//! trace keeps all of its lines of one class or none while the thresholds hold; lines outside any
//! trace draw at random. The classes, in the order the budget drops them:
//!
//! | class | lines | over budget |
//! |---|---|---|
//! | [`Class::Debug`] | DEBUG, TRACE | dropped first |
//! | [`Class::Info`] | INFO, access lines of 1xx, 2xx, 3xx | dropped next |
//! | [`Class::ClientError`] | access lines of 4xx | reduced last, and kept for at least `share_4xx` of traces |
//! | [`Class::Kept`] | WARN, ERROR, 5xx access lines, mvi's own INFO lines (target `mvi`) | never dropped; they count |
//!
//! The budget works per second of wall time (the second the line's `time` shows). At the start of a
//! second, each class's threshold is set from the lines *offered* in the second before (counted before
//! any budget decision, so the estimate does not depend on the thresholds): the room left by the
//! never-dropped lines goes to 4xx lines first, then INFO, then DEBUG. Within the second a hard count
//! backs the estimate up: once `limit` lines are kept, only never-dropped lines and the 4xx share pass.
//! Thresholds of a more important class are never below those of a less important one, so a trace
//! that keeps its DEBUG lines keeps its INFO lines too.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// What kind of line, for the budget; see the module's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    Debug = 0,
    Info = 1,
    ClientError = 2,
    Kept = 3,
}

/// The decision for one line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Keep,
    /// Dropped by `debug_sample_ratio`.
    Ratio,
    /// Dropped by the budget.
    Budget,
}

/// What happened in one second during which lines were dropped; the writer thread logs it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Summary {
    pub(crate) kept: u64,
    pub(crate) dropped_budget: u64,
    pub(crate) dropped_queue_full: u64,
}

/// The share `ratio` (0 to 1) as a threshold on draws: a draw below it is kept.
pub(crate) fn threshold(ratio: f64) -> u64 {
    if ratio >= 1.0 {
        u64::MAX
    } else if ratio <= 0.0 {
        0
    } else {
        (ratio * u64::MAX as f64) as u64
    }
}

fn below(draw: u64, threshold: u64) -> bool {
    threshold == u64::MAX || draw < threshold
}

/// The count of kept lines lives in the low 32 bits, the second they belong to in the high 32 bits,
/// so one compare-and-swap both starts a new second and takes a slot in it.
const COUNT: u64 = u32::MAX as u64;

#[derive(Debug)]
pub(crate) struct Sampler {
    /// Lines a second; 0: no budget.
    limit: u64,
    /// DEBUG/TRACE lines of traces drawing below this are kept (`debug_sample_ratio`).
    debug_ratio: u64,
    /// The share of traces whose 4xx access lines are kept over budget, as a threshold.
    share_4xx: u64,
    share_4xx_ratio: f64,
    debug_ratio_f: f64,
    /// (second << 32) | lines kept in that second.
    kept: AtomicU64,
    /// Lines offered this second, by class (after `debug_sample_ratio`, before the budget).
    offered: [AtomicU64; 4],
    /// Thresholds for `Debug`, `Info`, `ClientError` this second.
    thresholds: [AtomicU64; 3],
    dropped_budget: AtomicU64,
    dropped_queue_full: AtomicU64,
    /// Seconds with drops, not yet logged (the writer thread takes them).
    pending: Mutex<Option<Summary>>,
}

impl Sampler {
    pub(crate) fn new(limit: u32, debug_sample_ratio: f64, share_4xx: f64) -> Sampler {
        Sampler {
            limit: u64::from(limit),
            debug_ratio: threshold(debug_sample_ratio),
            share_4xx: threshold(share_4xx),
            share_4xx_ratio: share_4xx.clamp(0.0, 1.0),
            debug_ratio_f: debug_sample_ratio.clamp(0.0, 1.0),
            kept: AtomicU64::new(0),
            offered: Default::default(),
            thresholds: [
                AtomicU64::new(threshold(debug_sample_ratio)),
                AtomicU64::new(u64::MAX),
                AtomicU64::new(u64::MAX),
            ],
            dropped_budget: AtomicU64::new(0),
            dropped_queue_full: AtomicU64::new(0),
            pending: Mutex::new(None),
        }
    }

    /// Lines a second (0: no budget).
    pub(crate) fn limit(&self) -> u64 {
        self.limit
    }

    /// Whether to write a line of `class` whose trace draws `draw`, at `second` (Unix time).
    pub(crate) fn admit(&self, class: Class, draw: u64, second: u64) -> Verdict {
        self.roll(second);
        if class == Class::Debug && !below(draw, self.debug_ratio) {
            return Verdict::Ratio;
        }
        self.offered[class as usize].fetch_add(1, Relaxed);
        if class == Class::Kept || self.limit == 0 {
            self.kept.fetch_add(1, Relaxed);
            return Verdict::Keep;
        }
        if !below(draw, self.thresholds[class as usize].load(Relaxed)) {
            self.dropped_budget.fetch_add(1, Relaxed);
            return Verdict::Budget;
        }
        let mut current = self.kept.load(Relaxed);
        while current & COUNT < self.limit {
            match self
                .kept
                .compare_exchange_weak(current, current + 1, Relaxed, Relaxed)
            {
                Ok(_) => return Verdict::Keep,
                Err(now) => current = now,
            }
        }
        // This second's budget is spent: only the 4xx share passes.
        if class == Class::ClientError && below(draw, self.share_4xx) {
            self.kept.fetch_add(1, Relaxed);
            return Verdict::Keep;
        }
        self.dropped_budget.fetch_add(1, Relaxed);
        Verdict::Budget
    }

    /// A line the queue had no room for.
    pub(crate) fn queue_full(&self) {
        self.dropped_queue_full.fetch_add(1, Relaxed);
    }

    /// Starts a new second when `second` is past the current one (or the clock stepped back more
    /// than a second): sets the thresholds from the second that ended and keeps its summary if lines
    /// were dropped in it. A line of the second just ended counts in the new one.
    pub(crate) fn roll(&self, second: u64) {
        let mut current = self.kept.load(Relaxed);
        let ended = loop {
            let window = current >> 32;
            if second == window || second + 1 == window {
                return;
            }
            match self
                .kept
                .compare_exchange_weak(current, second << 32, Relaxed, Relaxed)
            {
                Ok(_) => break window,
                Err(now) => current = now,
            }
        };
        // Only the thread that moved the second on gets here.
        let offered = self.offered.each_ref().map(|o| o.swap(0, Relaxed));
        let summary = Summary {
            kept: current & COUNT,
            dropped_budget: self.dropped_budget.swap(0, Relaxed),
            dropped_queue_full: self.dropped_queue_full.swap(0, Relaxed),
        };
        // After a quiet second nothing was offered: full logging again.
        let offered = if second == ended + 1 { offered } else { [0; 4] };
        for (slot, value) in self.thresholds.iter().zip(self.thresholds_for(offered)) {
            slot.store(value, Relaxed);
        }
        if summary.dropped_budget + summary.dropped_queue_full > 0 {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            let p = pending.get_or_insert_with(Summary::default);
            p.kept += summary.kept;
            p.dropped_budget += summary.dropped_budget;
            p.dropped_queue_full += summary.dropped_queue_full;
        }
    }

    /// The seconds with drops not yet logged, summed; with `now`, the current second's too.
    pub(crate) fn take_summary(&self, now: bool) -> Option<Summary> {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if now {
            let p = pending.get_or_insert_with(Summary::default);
            p.kept += self.kept.load(Relaxed) & COUNT;
            p.dropped_budget += self.dropped_budget.swap(0, Relaxed);
            p.dropped_queue_full += self.dropped_queue_full.swap(0, Relaxed);
        }
        pending.take_if(|p| p.dropped_budget + p.dropped_queue_full > 0)
    }

    /// The thresholds for a second after one in which `offered` lines were offered, by class.
    fn thresholds_for(&self, offered: [u64; 4]) -> [u64; 3] {
        let total: u64 = offered.iter().sum();
        if self.limit == 0 || total <= self.limit {
            return [self.debug_ratio, u64::MAX, u64::MAX];
        }
        let mut room = self.limit.saturating_sub(offered[3]) as f64;
        let mut share = |class: usize, floor: f64| {
            let wanted = offered[class] as f64;
            if wanted == 0.0 {
                return 1.0;
            }
            let ratio = (room / wanted).clamp(floor, 1.0);
            room = (room - wanted * ratio).max(0.0);
            ratio
        };
        let client_error = share(2, self.share_4xx_ratio);
        let info = share(1, 0.0);
        let debug = share(0, 0.0);
        [
            // DEBUG lines were offered after `debug_sample_ratio`: keep `debug` of those.
            threshold(self.debug_ratio_f * debug),
            threshold(info),
            threshold(client_error),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: u64 = 1_000_000;

    /// Draws spread evenly over the u64 range, as random trace ids are: the middles of `n` slices.
    fn draws(n: u64) -> impl Iterator<Item = u64> {
        (0..n).map(move |i| (u64::MAX / n) * i + u64::MAX / (2 * n))
    }

    fn kept(s: &Sampler, class: Class, n: u64, second: u64) -> u64 {
        draws(n)
            .filter(|d| s.admit(class, *d, second) == Verdict::Keep)
            .count() as u64
    }

    #[test]
    fn under_the_budget_everything_is_kept() {
        let s = Sampler::new(100, 1.0, 0.01);
        assert_eq!(kept(&s, Class::Info, 60, T), 60);
        assert_eq!(kept(&s, Class::Debug, 40, T), 40);
        assert_eq!(s.take_summary(false), None);
    }

    #[test]
    fn no_budget_keeps_everything_but_the_debug_ratio() {
        let s = Sampler::new(0, 0.25, 0.01);
        assert_eq!(kept(&s, Class::Info, 10_000, T), 10_000);
        assert_eq!(kept(&s, Class::Debug, 1_000, T), 250);
    }

    #[test]
    fn the_hard_count_holds_within_a_second_and_never_drops_warn() {
        let s = Sampler::new(100, 1.0, 0.0);
        assert_eq!(kept(&s, Class::Info, 1_000, T), 100);
        assert_eq!(kept(&s, Class::Kept, 500, T), 500);
        assert_eq!(kept(&s, Class::Debug, 10, T), 0);
        s.roll(T + 1);
        assert_eq!(
            s.take_summary(false),
            Some(Summary {
                kept: 600,
                dropped_budget: 910,
                dropped_queue_full: 0
            })
        );
    }

    #[test]
    fn over_budget_debug_goes_first_then_info_then_4xx_down_to_its_share() {
        let s = Sampler::new(1_000, 1.0, 0.01);
        // Second T: 200 WARN, 500 4xx, 600 INFO, 1,000 DEBUG offered.
        for (class, n) in [
            (Class::Kept, 200),
            (Class::ClientError, 500),
            (Class::Info, 600),
            (Class::Debug, 1_000),
        ] {
            kept(&s, class, n, T);
        }
        // Second T + 1 is planned from T: 800 of room; 4xx get 500, INFO the other 300 (half), DEBUG none.
        let next = T + 1;
        assert_eq!(kept(&s, Class::Kept, 200, next), 200);
        assert_eq!(kept(&s, Class::ClientError, 500, next), 500);
        assert_eq!(kept(&s, Class::Info, 600, next), 300);
        assert_eq!(kept(&s, Class::Debug, 1_000, next), 0);

        // A flood of 4xx: they fall to the room left, never below 1% of traces.
        for second in [T + 2, T + 3] {
            kept(&s, Class::ClientError, 200_000, second);
        }
        s.roll(T + 4);
        let share = kept(&s, Class::ClientError, 200_000, T + 4);
        assert_eq!(
            share, 2_000,
            "1% of traces: above the budget, as configured"
        );
    }

    #[test]
    fn a_trace_keeps_its_lines_together_and_info_with_debug() {
        let s = Sampler::new(100, 1.0, 0.01);
        kept(&s, Class::Info, 150, T);
        kept(&s, Class::Debug, 150, T);
        // Planned for T + 1: INFO 100/150 of traces; DEBUG none.
        for d in draws(40) {
            let info = s.admit(Class::Info, d, T + 1);
            assert_eq!(
                info,
                s.admit(Class::Info, d, T + 1),
                "same trace, same answer"
            );
            if s.admit(Class::Debug, d, T + 1) == Verdict::Keep {
                assert_eq!(info, Verdict::Keep);
            }
        }
    }

    #[test]
    fn pressure_ends_full_logging_resumes() {
        let s = Sampler::new(10, 1.0, 0.01);
        kept(&s, Class::Info, 1_000, T);
        assert_eq!(kept(&s, Class::Info, 1_000, T + 1), 10);
        // A quiet second: everything offered in the next one is kept again (up to the budget).
        s.roll(T + 3);
        assert_eq!(kept(&s, Class::Info, 10, T + 3), 10);
        // A clock stepped back by an hour starts a new second too, rather than dropping for an hour.
        assert_eq!(kept(&s, Class::Info, 5, T - 3600), 5);
    }

    #[test]
    fn the_debug_ratio_is_counted_apart_from_the_budget() {
        let s = Sampler::new(0, 0.5, 0.01);
        let verdicts: Vec<Verdict> = draws(4).map(|d| s.admit(Class::Debug, d, T)).collect();
        assert_eq!(
            verdicts,
            [Verdict::Keep, Verdict::Keep, Verdict::Ratio, Verdict::Ratio]
        );
    }
}
