//! The error `install` returns.

use std::net::SocketAddr;

/// Why [`TelemetryBuilder::install`](crate::TelemetryBuilder::install) refused to start.
///
/// # Examples
///
/// ```no_run
/// match mvi::Telemetry::builder().admin_addr("127.0.0.1:9464").install() {
///     Ok(telemetry) => drop(telemetry),
///     Err(mvi::Error::Bind { addr, source }) => eprintln!("port taken: {addr}: {source}"),
///     Err(e) => eprintln!("cannot start: {e}"),
/// }
/// ```
///
/// A second `install()` in one process is refused, and changes nothing:
///
/// ```standalone_crate
/// let first = mvi::Telemetry::builder().without_admin_server().without_logs().install().unwrap();
/// let second = mvi::Telemetry::builder().without_admin_server().without_logs().install();
/// assert!(matches!(second, Err(mvi::Error::AlreadyInstalled)));
/// drop(first);
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `install` already ran in this process.
    #[error(
        "mvi is already installed in this process; call `install` once and share the `Telemetry`"
    )]
    AlreadyInstalled,
    /// Another crate installed the global `metrics` recorder first.
    #[error(
        "another `metrics` recorder is already installed; mvi must own the global recorder to export it"
    )]
    ForeignRecorder,
    /// The admin address is not a socket address.
    #[error("invalid admin address `{addr}`: expected `host:port`, like `127.0.0.1:9464`")]
    InvalidAddr {
        /// The address as given.
        addr: String,
    },
    /// The admin address could not be bound (in use, or not permitted).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Histogram buckets given to the builder are unusable.
    #[error("invalid buckets for histogram `{name}`: {reason}")]
    InvalidBuckets {
        /// The histogram.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// The OTLP trace exporter could not be built (feature `otlp`).
    #[error("cannot export traces: {reason}")]
    TraceExport {
        /// What the exporter said.
        reason: String,
    },
    /// A builder setting is unusable (log filter, sample ratio, a subscriber already set).
    #[error("invalid configuration: {reason}")]
    InvalidConfig {
        /// What is wrong.
        reason: String,
    },
    /// Two places declare one metric name differently.
    #[error("{}", conflicts.join("\n"))]
    CatalogConflict {
        /// One line per conflict, naming both source locations.
        conflicts: Vec<String>,
    },
}
