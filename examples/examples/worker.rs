//! A background worker: no HTTP server of its own, only mvi's admin routes, and every job observed.
//! On SIGTERM or Ctrl-C it stops taking jobs, finishes the one in hand, and shuts down.
//!
//! ```sh
//! cargo run --example worker
//! curl -s http://127.0.0.1:9464/metrics | grep -E '^(function_calls_total|worker_)'
//! ```

use std::time::Duration;

/// The kinds of job: a closed set, so each kind's series exist from the first scrape.
#[derive(mvi::LabelValue, Clone, Copy, Debug)]
enum Kind {
    Thumbnail,
    Invoice,
}

mvi::metrics! {
    /// Jobs waiting to be processed.
    gauge QUEUED: "worker_jobs_queued";
}

/// Counted by kind and result, timed, and its calls in flight gauged (`function_calls_concurrent`).
#[mvi::observe(counter, histogram, concurrency, labels(kind = kind))]
async fn process(kind: Kind, id: u64) -> Result<(), String> {
    tokio::time::sleep(Duration::from_millis(20)).await;
    if id % 10 == 0 {
        return Err(format!("job {id}: the source image is gone"));
    }
    tracing::info!(?kind, id, "job done");
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), mvi::Error> {
    let telemetry = mvi::Telemetry::builder().install()?;
    let admin = telemetry.admin_addr().expect("the admin server is on");
    eprintln!("working; admin routes on http://{admin}: /metrics /healthz /readyz /livez");

    // A stand-in for a queue consumer (Kafka, SQS, a database table): a job every 50 ms.
    let (jobs, mut queue) = tokio::sync::mpsc::channel(100);
    tokio::spawn(async move {
        for id in 1.. {
            let kind = if id % 3 == 0 {
                Kind::Invoice
            } else {
                Kind::Thumbnail
            };
            QUEUED.inc();
            if jobs.send((kind, id)).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });

    let mut stop = std::pin::pin!(mvi::shutdown_signal());
    loop {
        let (kind, id) = tokio::select! {
            _ = &mut stop => break,
            Some(job) = queue.recv() => job,
        };
        QUEUED.dec();
        if let Err(error) = process(kind, id).await {
            tracing::warn!(%error, "job failed");
        }
    }
    telemetry.shutdown().await;
    Ok(())
}
