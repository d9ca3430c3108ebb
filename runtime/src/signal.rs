//! [`shutdown_signal`]: the signals service managers stop a process with.

/// Resolves at the first SIGTERM or SIGINT (Ctrl-C where there are no Unix signals): how Kubernetes,
/// Docker and systemd ask a service to stop. Await it, then call
/// [`Telemetry::shutdown`](crate::Telemetry::shutdown).
///
/// From then on a second signal exits the process at once (status 143 for SIGTERM, 130 for SIGINT),
/// as servers do: the first stop is graceful, the second is not.
///
/// ```no_run
/// #[tokio::main]
/// async fn main() -> Result<(), mvi::Error> {
///     let telemetry = mvi::Telemetry::builder().install()?;
///     mvi::shutdown_signal().await;
///     telemetry.shutdown().await;
///     Ok(())
/// }
/// ```
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            let first = tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            };
            tracing::info!(
                target: "mvi",
                signal = first,
                "stopping gracefully; a second signal stops at once"
            );
            tokio::spawn(async move {
                let (second, status) = tokio::select! {
                    _ = term.recv() => ("SIGTERM", 143),
                    _ = int.recv() => ("SIGINT", 130),
                };
                exit_now(second, status);
            });
            return;
        }
    }
    if tokio::signal::ctrl_c().await.is_err() {
        // No way to hear a signal: never resolve, rather than stop a service nobody asked to stop.
        tracing::warn!(target: "mvi", "cannot listen for Ctrl-C; shutdown_signal() will not resolve");
        std::future::pending::<()>().await;
    }
    tracing::info!(
        target: "mvi",
        signal = "Ctrl-C",
        "stopping gracefully; a second Ctrl-C stops at once"
    );
    tokio::spawn(async {
        if tokio::signal::ctrl_c().await.is_ok() {
            exit_now("Ctrl-C", 130);
        }
    });
}

fn exit_now(signal: &str, status: i32) -> ! {
    tracing::warn!(target: "mvi", signal, "second signal: exiting at once");
    crate::logging::flush(crate::logging::FLUSH_TIMEOUT);
    std::process::exit(status)
}
