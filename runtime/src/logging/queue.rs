//! The bounded queue between the threads that log and the writer thread.
//!
//! Lines are appended to one buffer; the writer swaps the whole buffer out and writes it in one
//! batch, so a caller holds the lock for one copy of its line and wakes the writer (a system call)
//! only when the writer is idle: waiting for lines, not writing nor pausing between batches. The buffer holds [`CAPACITY`] bytes of DEBUG and INFO lines; WARN
//! and ERROR lines (and mvi's own few INFO lines, like `shutdown complete`) may use [`RESERVE`] bytes
//! more, and when even those are taken they wait up to
//! [`RESERVE_WAIT`] for room. A wait that runs out marks the queue stalled: until the writer takes a
//! batch again, WARN and ERROR lines that find no room are dropped at once, so a stuck output costs
//! the logging threads one short wait, not one per line.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Bytes of lines waiting to be written, beyond which DEBUG and INFO lines are dropped: about
/// 3,000 lines of 350 bytes, three seconds of the default budget.
pub(crate) const CAPACITY: usize = 1 << 20;
/// Bytes more for WARN and ERROR lines only: about 750 lines.
pub(crate) const RESERVE: usize = 256 << 10;
/// The longest a WARN or ERROR line waits for room before it is dropped.
pub(crate) const RESERVE_WAIT: Duration = Duration::from_millis(10);

#[derive(Debug)]
pub(crate) struct Queue {
    state: Mutex<State>,
    capacity: usize,
    reserve: usize,
    /// The writer waits here for lines.
    lines: Condvar,
    /// Callers wait here for room, or for their lines to be written.
    progress: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// Lines waiting for the writer.
    pending: Vec<u8>,
    /// Bytes ever queued, and ever written: `flush` waits for the second to reach the first.
    queued: u64,
    written: u64,
    writer_idle: bool,
    /// A WARN/ERROR line waited for room in vain since the writer last took a batch.
    stalled: bool,
    closed: bool,
}

/// What [`Queue::take`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Taken {
    /// A batch, now in the caller's buffer; report it written with [`Queue::written`] and this mark.
    Batch(u64),
    /// Nothing within the idle time.
    Idle,
    /// Closed, and everything written.
    Closed,
}

impl Queue {
    pub(crate) fn new(capacity: usize, reserve: usize) -> Queue {
        Queue {
            state: Mutex::new(State::default()),
            capacity,
            reserve,
            lines: Condvar::new(),
            progress: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues one line; false when there is no room. `important` lines (WARN, ERROR, mvi's own) may
    /// use the reserve and wait briefly for room.
    pub(crate) fn push(&self, line: &[u8], important: bool) -> bool {
        let limit = if important {
            self.capacity + self.reserve
        } else {
            self.capacity
        };
        let fits = |s: &State| s.pending.is_empty() || s.pending.len() + line.len() <= limit;
        let mut state = self.lock();
        if !fits(&state) {
            if !important || state.stalled {
                return false;
            }
            let room;
            (state, room) = self.wait(state, RESERVE_WAIT, fits);
            if !room {
                state.stalled = true;
                return false;
            }
        }
        state.pending.extend_from_slice(line);
        state.queued += line.len() as u64;
        if state.writer_idle {
            state.writer_idle = false;
            self.lines.notify_one();
        }
        true
    }

    /// The writer's side: waits up to `idle` for lines, then swaps them into `batch` (which must be
    /// empty; its allocation is reused for the next lines).
    pub(crate) fn take(&self, batch: &mut Vec<u8>, idle: Duration) -> Taken {
        let mut state = self.lock();
        if state.pending.is_empty() {
            if state.closed {
                return Taken::Closed;
            }
            state.writer_idle = true;
            state = self
                .lines
                .wait_timeout(state, idle)
                .unwrap_or_else(|e| e.into_inner())
                .0;
            state.writer_idle = false;
            if state.pending.is_empty() {
                return if state.closed {
                    Taken::Closed
                } else {
                    Taken::Idle
                };
            }
        }
        std::mem::swap(&mut state.pending, batch);
        state.stalled = false;
        let mark = state.queued;
        drop(state);
        self.progress.notify_all();
        Taken::Batch(mark)
    }

    /// The writer wrote everything queued up to `mark`.
    pub(crate) fn written(&self, mark: u64) {
        self.lock().written = mark;
        self.progress.notify_all();
    }

    /// Waits until every line queued before the call is written, at most `timeout`; false if the
    /// time ran out.
    pub(crate) fn flush(&self, timeout: Duration) -> bool {
        let state = self.lock();
        let target = state.queued;
        self.wait(state, timeout, |s| s.written >= target).1
    }

    /// Waits for the writer's progress until `done` holds, at most `timeout`; whether it holds.
    fn wait<'a>(
        &'a self,
        mut state: MutexGuard<'a, State>,
        timeout: Duration,
        done: impl Fn(&State) -> bool,
    ) -> (MutexGuard<'a, State>, bool) {
        let deadline = Instant::now() + timeout;
        while !done(&state) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return (state, false);
            }
            state = self
                .progress
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        (state, true)
    }

    /// Lets the writer finish: it writes what is queued, then `take` answers [`Taken::Closed`].
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.lines.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn debug_and_info_stop_at_the_capacity_warn_and_error_use_the_reserve() {
        let q = Queue::new(10, 5);
        assert!(q.push(b"0123456\n", false));
        assert!(!q.push(b"abc\n", false), "8 + 4 > 10");
        assert!(q.push(b"abc\n", true), "8 + 4 <= 15");
        assert!(
            !q.push(b"abc\n", true),
            "the reserve is full too, after a short wait"
        );
        // Stalled: the next important line does not wait again.
        assert!(!q.push(b"xyz\n", true));
        let mut batch = Vec::new();
        assert_eq!(q.take(&mut batch, Duration::ZERO), Taken::Batch(12));
        assert_eq!(batch, b"0123456\nabc\n");
        assert!(
            q.push(b"x\n", false),
            "room again once the writer took its batch"
        );
    }

    #[test]
    fn a_line_longer_than_the_queue_passes_alone() {
        let q = Queue::new(4, 0);
        assert!(q.push(b"a long line\n", false));
        assert!(!q.push(b"b\n", false));
    }

    #[test]
    fn flush_waits_for_the_writer_and_close_ends_it() {
        let q = Arc::new(Queue::new(1 << 10, 0));
        let writer = std::thread::spawn({
            let q = q.clone();
            move || {
                let mut out = Vec::new();
                let mut batch = Vec::new();
                loop {
                    match q.take(&mut batch, Duration::from_secs(10)) {
                        Taken::Batch(mark) => {
                            std::thread::sleep(Duration::from_millis(20));
                            out.append(&mut batch);
                            q.written(mark);
                        }
                        Taken::Idle => {}
                        Taken::Closed => return out,
                    }
                }
            }
        });
        for i in 0..50 {
            assert!(q.push(format!("{i}\n").as_bytes(), false));
        }
        assert!(q.flush(Duration::from_secs(60)));
        let state = q.lock();
        assert_eq!(state.written, state.queued, "flush returned once written");
        drop(state);
        assert!(q.push(b"last\n", false));
        q.close();
        let out = String::from_utf8(writer.join().unwrap()).unwrap();
        assert_eq!(out.lines().count(), 51);
        assert!(out.ends_with("49\nlast\n"));
    }
}
