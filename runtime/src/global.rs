//! Process-wide state, all of it in one place: what `install` sets once, and the requests in flight that
//! shutdown waits for.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use tokio::sync::Notify;

use crate::series::Store;
use crate::series::shard::{self, MAX_SHARDS, Padded};

/// What `install` sets up for the whole process.
#[derive(Debug)]
pub(crate) struct Installed {
    /// Every series, and the global `metrics` recorder.
    pub(crate) store: Arc<Store>,
    /// The TSC clock call sites time calls with: the one exemplars are timed with, so a call site's
    /// tick serves both.
    pub(crate) clock: quanta::Clock,
}

static INSTALLED: OnceLock<Installed> = OnceLock::new();

/// The installed state, if `install` has run.
#[inline]
pub(crate) fn installed() -> Option<&'static Installed> {
    INSTALLED.get()
}

/// Sets the installed state; `false` if it was set already.
pub(crate) fn install(state: Installed) -> bool {
    INSTALLED.set(state).is_ok()
}

/// Before install: runs `f` with the current `metrics` recorder (a test's in-memory one, say), or
/// returns `None` without calling it when there is none, so that a library's observed calls cost
/// nothing, and allocate nothing, in a program that installs no recorder.
///
/// `metrics` 0.24 cannot be asked whether a recorder is set: when neither a local nor a global one is,
/// `with_recorder` lends its `NoopRecorder`, a unit struct. A recorder that records holds its state
/// (a registry, a handle to one, a channel), so it has a size; a zero-sized one is taken for the no-op
/// recorder. That costs one thread-local and one atomic read. The one recorder this misreads is a
/// unit struct of the application's own that records into statics: it does not see mvi's calls made
/// before install (they still count once mvi is installed).
#[inline]
pub(crate) fn with_facade<R>(f: impl FnOnce(&dyn metrics::Recorder) -> R) -> Option<R> {
    metrics::with_recorder(|recorder| (size_of_val(recorder) != 0).then(|| f(recorder)))
}

/// Requests inside `#[traced_handler]`s right now, by shard: a request is counted on the shard of the
/// thread it starts on, and uncounted on that same shard wherever it ends (its guard keeps the shard),
/// so requests on many cores do not write one cache line.
///
/// Why a drain never sees a false zero: a shard's count is the requests that started on it and have not
/// ended, never less, since only they uncount it. A request in flight while [`requests_in_flight`] reads
/// the shards one after another keeps its shard at one or more through that read, so the sum is at
/// least one. (A request that starts after its shard was read is missed, as one starting just after the
/// load of a single counter would be.)
static IN_FLIGHT: [Padded<AtomicUsize>; MAX_SHARDS] =
    [const { Padded(AtomicUsize::new(0)) }; MAX_SHARDS];
/// Set by the first drain: from then on each request that ends wakes it.
static DRAINING: Padded<AtomicBool> = Padded(AtomicBool::new(false));
static DRAINED: Notify = Notify::const_new();

/// A request started: counted until the returned guard drops.
pub(crate) fn request_started() -> RequestInFlight {
    let shard = shard::index();
    IN_FLIGHT[shard].0.fetch_add(1, Ordering::SeqCst);
    RequestInFlight { shard }
}

/// One request in flight; dropping it ends the request.
#[derive(Debug)]
pub(crate) struct RequestInFlight {
    shard: usize,
}

impl Drop for RequestInFlight {
    fn drop(&mut self) {
        IN_FLIGHT[self.shard].0.fetch_sub(1, Ordering::SeqCst);
        // Both `SeqCst`, as are the drain's store of `DRAINING` and its reads of the shards: either the
        // drain's reads come after this decrement and see it, or this load comes after the drain's
        // store and wakes it (its `Notified` was made before it read).
        if DRAINING.0.load(Ordering::SeqCst) {
            DRAINED.notify_waiters();
        }
    }
}

/// Requests in flight now.
pub(crate) fn requests_in_flight() -> usize {
    IN_FLIGHT.iter().map(|n| n.0.load(Ordering::SeqCst)).sum()
}

/// Resolves once no `#[traced_handler]` request is in flight.
pub(crate) async fn drained() {
    DRAINING.0.store(true, Ordering::SeqCst);
    loop {
        let notified = DRAINED.notified();
        if requests_in_flight() == 0 {
            return;
        }
        notified.await;
    }
}

/// Whether `#[traced_handler]` writes an access line per request (`access_log` on the builder); read
/// by every request, so alone on its cache line.
static ACCESS_LOG: Padded<AtomicBool> = Padded(AtomicBool::new(true));

pub(crate) fn set_access_log(enabled: bool) {
    ACCESS_LOG.0.store(enabled, Ordering::Relaxed);
}

#[inline]
pub(crate) fn access_log() -> bool {
    ACCESS_LOG.0.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Requests that start on one thread and end on another, while one request stays in flight
    /// throughout: no read of the count is zero, and the drain resolves once the last one ends.
    #[test]
    fn a_drain_never_sees_a_false_zero() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let long = request_started();
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let movers: Vec<_> = (0..4)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let (send, receive) = std::sync::mpsc::channel::<RequestInFlight>();
                    let ender = std::thread::spawn(move || while receive.recv().is_ok() {});
                    while !stop.load(Ordering::Relaxed) {
                        send.send(request_started()).unwrap();
                    }
                    drop(send);
                    ender.join().unwrap();
                })
            })
            .collect();
        let drain = rt.spawn(drained());
        for _ in 0..200_000 {
            assert_ne!(requests_in_flight(), 0, "a request is in flight");
        }
        assert!(!drain.is_finished());
        stop.store(true, Ordering::Relaxed);
        for m in movers {
            m.join().unwrap();
        }
        assert_eq!(requests_in_flight(), 1);
        drop(long);
        rt.block_on(async {
            tokio::time::timeout(std::time::Duration::from_secs(10), drain)
                .await
                .expect("the drain resolves when the last request ends")
                .unwrap();
        });
        assert_eq!(requests_in_flight(), 0);
    }
}
