//! Process-wide state, all of it in one place: what `install` sets once, and the requests in flight that
//! shutdown waits for.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use tokio::sync::Notify;

use crate::series::Store;

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

/// Requests inside `#[traced_handler]`s right now; shutdown waits for zero.
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
static DRAINED: Notify = Notify::const_new();

/// A request started: counted until the returned guard drops.
pub(crate) fn request_started() -> RequestInFlight {
    IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
    RequestInFlight(())
}

/// One request in flight; dropping it ends the request.
#[derive(Debug)]
pub(crate) struct RequestInFlight(());

impl Drop for RequestInFlight {
    fn drop(&mut self) {
        if IN_FLIGHT.fetch_sub(1, Ordering::SeqCst) == 1 {
            DRAINED.notify_waiters();
        }
    }
}

/// Requests in flight now.
pub(crate) fn requests_in_flight() -> usize {
    IN_FLIGHT.load(Ordering::SeqCst)
}

/// Resolves once no `#[traced_handler]` request is in flight.
pub(crate) async fn drained() {
    loop {
        let notified = DRAINED.notified();
        if IN_FLIGHT.load(Ordering::SeqCst) == 0 {
            return;
        }
        notified.await;
    }
}

/// Whether `#[traced_handler]` writes an access line per request (`access_log` on the builder).
static ACCESS_LOG: AtomicBool = AtomicBool::new(true);

pub(crate) fn set_access_log(enabled: bool) {
    ACCESS_LOG.store(enabled, Ordering::Relaxed);
}

#[inline]
pub(crate) fn access_log() -> bool {
    ACCESS_LOG.load(Ordering::Relaxed)
}
