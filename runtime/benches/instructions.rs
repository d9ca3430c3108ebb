//! The request paths of the `http` and `client` benchmarks in a plain loop, for counting
//! instructions with callgrind (repeatable, where time on a shared machine is not):
//! `sh runtime/benches/instructions.sh` runs each case for 2,000 and for 4,000 calls, counting only
//! the loop (`measured`) on its own thread, and prints the instructions a call (the difference of the
//! two runs over 2,000, so set-up cancels out). Under `cargo bench`, with no case, it does nothing.
//!
//! The cases (`instructions <case> <calls>`):
//! - `handler-bare`, `handler-traced`: the `http` benchmark's request, to the bare handler or the one
//!   under `#[mvi::traced_handler]`;
//! - `client-bare`, `client-mvi`, `client-reqwest-tracing`: the `client` benchmark's `stubbed` call,
//!   through the stub alone, behind `mvi::client::Middleware`, or behind `reqwest-tracing`'s
//!   `TracingMiddleware`.
//!
//! All under mvi's subscriber (JSON logs to a sink, the access line off, `reqwest_tracing=info` so that
//! its spans are made) and recorder.

mod common;
#[path = "common/mvi_runtime.rs"]
mod mvi_runtime;
#[path = "common/order.rs"]
mod order;
#[path = "common/stub.rs"]
mod stub;

use std::hint::black_box;

use axum::Router;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};

use stub::Stub;

/// What one call of a case goes through.
enum Case {
    Handler(Router),
    Client(ClientWithMiddleware),
}

impl Case {
    fn named(name: &str) -> Option<Case> {
        let client = || ClientBuilder::new(reqwest::Client::new());
        Some(match name {
            "handler-bare" => Case::Handler(order::bare_router()),
            "handler-traced" => Case::Handler(order::traced_router()),
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
            _ => return None,
        })
    }

    async fn call(&self) -> usize {
        match self {
            Case::Handler(router) => order::serve(router).await,
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
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let [name, calls] = args.as_slice() else {
        println!("instructions: nothing to count; run `sh runtime/benches/instructions.sh`");
        return;
    };
    let Ok(calls) = calls.parse::<usize>() else {
        eprintln!("instructions: <calls> must be a number, not `{calls}`");
        std::process::exit(2);
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _entered = rt.enter();
    let telemetry = mvi_runtime::builder(Some(&format!(
        "{},reqwest_tracing=info",
        mvi::DEFAULT_LOG_FILTER
    )))
    .without_admin_server()
    .install()
    .expect("install");
    let Some(case) = Case::named(name) else {
        eprintln!(
            "instructions: unknown case `{name}`; the cases: handler-bare, handler-traced, client-bare, client-mvi, client-reqwest-tracing"
        );
        std::process::exit(2);
    };
    // The first call makes what later calls reuse (series, label sets, callsites).
    rt.block_on(case.call());
    let sum = measured(&rt, &case, calls);
    println!("{name}: {calls} calls ({sum})");
    drop(telemetry);
}
