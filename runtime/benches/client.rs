//! Per-call cost of mvi's reqwest middleware, side by side in one run with a bare call and with
//! `reqwest-tracing` (in its tracing-only mode: its OpenTelemetry modes need `opentelemetry` 0.32 or
//! older, a second copy beside mvi's 0.33).
//!
//! Two groups:
//! - `stubbed`: a `reqwest-middleware` client whose last middleware answers at once, without I/O, so
//!   the difference is the middleware alone: `bare` (the stub only), `mvi_middleware` (mvi's in front of
//!   it: client span, `traceparent`, client metrics), `reqwest_tracing` (its `TracingMiddleware`).
//! - `loopback`: a real `GET` to an axum server on 127.0.0.1 (a keep-alive connection), `bare` with a
//!   plain `reqwest::Client`, and the same two middlewares.
//!
//! All run under mvi's subscriber (JSON logs, to a sink; its filter with `reqwest_tracing=info`, so
//! that reqwest-tracing's spans are recorded as mvi's are) and recorder, outside any request (each
//! call starts a trace). `cargo bench -p mvi --bench client --features reqwest` prints criterion's report,
//! then a table per group: time per call, ratio to `bare`, and overhead over `bare`.

mod common;
#[path = "common/mvi_runtime.rs"]
mod mvi_runtime;
#[path = "common/stub.rs"]
mod stub;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::Criterion;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware, Middleware};

use stub::Stub;

async fn call(client: &ClientWithMiddleware, url: &str) -> u16 {
    let response = client.get(url).send().await.expect("call");
    response.status().as_u16()
}

fn benches(c: &mut Criterion, rt: &tokio::runtime::Runtime, server: &str) {
    let stubbed = |with: Option<Arc<dyn Middleware>>| {
        let builder = ClientBuilder::new(reqwest::Client::new());
        let builder = match with {
            Some(m) => builder.with_arc(m),
            None => builder,
        };
        builder.with(Stub).build()
    };
    let real = |with: Option<Arc<dyn Middleware>>| {
        let builder = ClientBuilder::new(reqwest::Client::new());
        match with {
            Some(m) => builder.with_arc(m),
            None => builder,
        }
        .build()
    };
    let mvi: Arc<dyn Middleware> = Arc::new(mvi::client::Middleware::new());
    let peer: Arc<dyn Middleware> = Arc::new(reqwest_tracing::TracingMiddleware::default());
    let url = format!("{server}/ok");

    for (group_name, make) in [
        (
            "stubbed",
            &stubbed as &dyn Fn(Option<Arc<dyn Middleware>>) -> ClientWithMiddleware,
        ),
        ("loopback", &real),
    ] {
        let cases = [
            ("bare", make(None)),
            ("mvi_middleware", make(Some(mvi.clone()))),
            ("reqwest_tracing", make(Some(peer.clone()))),
        ];
        let mut group = c.benchmark_group(group_name);
        group
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3));
        for (name, client) in &cases {
            group.bench_function(*name, |b| {
                b.to_async(rt)
                    .iter(|| async { black_box(call(client, &url).await) })
            });
        }
        group.finish();
    }
}

fn main() {
    // The server runs on a thread of its own, as another process would.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let server = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime");
        server.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            tx.send(format!("http://{}", listener.local_addr().expect("addr")))
                .expect("send");
            let app = axum::Router::new().route("/ok", axum::routing::get(|| async { "ok" }));
            axum::serve(listener, app).await.expect("serve");
        });
    });
    let server = rx.recv().expect("server address");
    // mvi's default filter keeps `reqwest*` targets at WARN, which would switch reqwest-tracing's
    // INFO spans off: here they are on, as mvi's are.
    let filter = format!("{},reqwest_tracing=info", mvi::DEFAULT_LOG_FILTER);
    mvi_runtime::run(Some(&filter), |c, rt| benches(c, rt, &server));

    for group in ["stubbed", "loopback"] {
        println!("\n{group}:");
        common::print_table(
            group,
            "bare",
            &["bare", "mvi_middleware", "reqwest_tracing"],
            Some(("overhead over bare", |ns, base| {
                format!("{:.2} µs", (ns - base) / 1000.0)
            })),
        );
    }
}
