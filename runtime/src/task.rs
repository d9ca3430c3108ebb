//! Spawning work that stays in the current trace: [`spawn`] and [`spawn_blocking`] carry mvi's
//! context and the current `tracing` span into the task, so its log lines carry the request's
//! `trace_id` (and the spawning span's `span_id`), its outgoing calls send the same trace on, and its
//! `#[observe(span)]` calls are children of the span that spawned it.
//!
//! They are `tokio::spawn` and `tokio::task::spawn_blocking` with [`capture`](crate::context::capture)
//! around the task; for other executors and threads, capture the context and run in it yourself:
//! `let cx = mvi::context::capture(); std::thread::spawn(move || cx.in_scope(work));`.

use std::future::Future;

use tokio::task::JoinHandle;

use crate::context;

/// `tokio::spawn`, in the current trace context.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let handle = mvi::spawn(async { tracing::info!("logged with the spawner's trace_id") });
/// handle.await.unwrap();
/// # }
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(context::capture().scope(future))
}

/// `tokio::task::spawn_blocking`, in the current trace context.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let sum = mvi::spawn_blocking(|| (1..=10).sum::<u32>()).await.unwrap();
/// assert_eq!(sum, 55);
/// # }
/// ```
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let cx = context::capture();
    tokio::task::spawn_blocking(move || cx.in_scope(f))
}
