//! The request paths of the HTTP and client benchmarks in a plain loop, for counting instructions
//! with callgrind (repeatable, where time on a shared machine is not): `tests/instructions.sh` runs
//! each case for 2,000 and for 4,000 calls, counting only the loop (`measured`) on its own thread, and
//! prints the instructions a call (the difference of the two runs over 2,000, so set-up cancels out).
//!
//! `instructions <case> <calls>`, the cases:
//! - `handler-bare`, `handler-traced`: `GET /orders/{id}` through an axum `Router` with
//!   `tower::ServiceExt::oneshot`, the handler bare or under `#[mvi::traced_handler]`, a `traceparent`
//!   on every request (as `cargo bench -p mvi --bench http`);
//! - `client-bare`, `client-mvi`, `client-reqwest-tracing`: one `GET` through a `reqwest-middleware`
//!   client whose last middleware answers at once, alone, behind `mvi::client::Middleware`, or
//!   behind `reqwest-tracing`'s `TracingMiddleware` (as `cargo bench -p mvi --bench client
//!   --features reqwest`, group `stubbed`).
//!
//! All under mvi's subscriber (JSON logs to a sink, the access line off) and recorder.

use std::hint::black_box;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::routing::get;
use http::Extensions;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware, Middleware, Next};
use tower::ServiceExt as _;

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

async fn bare(Path(id): Path<u32>) -> String {
    format!("order {id}")
}

#[mvi::traced_handler]
async fn traced(Path(id): Path<u32>) -> String {
    format!("order {id}")
}

/// Answers 200 without sending anything.
struct Stub;

impl Middleware for Stub {
    fn handle<'life0, 'life1, 'life2, 'async_trait>(
        &'life0 self,
        _request: reqwest::Request,
        _extensions: &'life1 mut Extensions,
        _next: Next<'life2>,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<Output = reqwest_middleware::Result<reqwest::Response>>
                + Send
                + 'async_trait,
        >,
    >
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async { Ok(reqwest::Response::from(http::Response::new("ok"))) })
    }
}

/// What one call of a case goes through.
enum Case {
    Handler(Router),
    Client(ClientWithMiddleware),
}

impl Case {
    async fn call(&self) -> usize {
        match self {
            Case::Handler(router) => {
                let request = http::Request::get("/orders/42")
                    .header("traceparent", TRACEPARENT)
                    .body(Body::empty())
                    .expect("request");
                let response = router.clone().oneshot(request).await.expect("infallible");
                axum::body::to_bytes(response.into_body(), usize::MAX)
                    .await
                    .expect("body")
                    .len()
            }
            Case::Client(client) => {
                let response = client
                    .get("http://127.0.0.1:9/orders/42")
                    .send()
                    .await
                    .expect("stubbed");
                usize::from(response.status().as_u16())
            }
        }
    }
}

/// The loop callgrind counts (`--toggle-collect=instructions::measured`).
#[inline(never)]
fn measured(rt: &tokio::runtime::Runtime, case: &Case, calls: usize) -> usize {
    rt.block_on(async {
        let mut sum = 0;
        for _ in 0..calls {
            sum += black_box(case.call().await);
        }
        sum
    })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(name), Some(Ok(calls))) = (args.get(1), args.get(2).map(|n| n.parse::<usize>()))
    else {
        eprintln!(
            "usage: instructions <handler-bare|handler-traced|client-bare|client-mvi|client-reqwest-tracing> <calls>"
        );
        std::process::exit(2);
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _entered = rt.enter();
    let telemetry = mvi::Telemetry::builder()
        .log_output(mvi::LogOutput::Writer(Arc::new(
            Mutex::new(std::io::sink()),
        )))
        .log_filter(format!("{},reqwest_tracing=info", mvi::DEFAULT_LOG_FILTER))
        .access_log(false)
        .without_admin_server()
        .install()
        .expect("install");
    let client = || ClientBuilder::new(reqwest::Client::new());
    let case = match name.as_str() {
        "handler-bare" => Case::Handler(Router::new().route("/orders/{id}", get(bare))),
        "handler-traced" => Case::Handler(Router::new().route("/orders/{id}", get(traced))),
        "client-bare" => Case::Client(client().with(Stub).build()),
        "client-mvi" => Case::Client(
            client()
                .with(mvi::client::Middleware::new())
                .with(Stub)
                .build(),
        ),
        "client-reqwest-tracing" => Case::Client(
            client()
                .with(reqwest_tracing::TracingMiddleware::default())
                .with(Stub)
                .build(),
        ),
        other => {
            eprintln!("unknown case `{other}`");
            std::process::exit(2);
        }
    };
    // The first call makes what later calls reuse (series, label sets, callsites).
    rt.block_on(case.call());
    let sum = measured(&rt, &case, calls);
    println!("{name}: {calls} calls ({sum})");
    drop(telemetry);
}
