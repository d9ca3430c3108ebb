//! Every form `#[observe]` accepts compiles clean (this file denies warnings) and records through the
//! `metrics` facade into an in-memory recorder, with exact values and labels.
#![deny(warnings)]

use std::fmt::Display;

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use metrics_util::{CompositeKey, MetricKind};

#[derive(Debug)]
struct Oops;

/// Doc comments stay.
#[mvi::observe]
pub fn parse_qty(s: &str) -> Result<u32, std::num::ParseIntError> {
    let n: u32 = s.parse()?;
    if n == 0 {
        return Ok(1);
    }
    Ok(n)
}

#[mvi::observe]
fn maybe(flag: bool) -> Option<u8> {
    flag.then_some(1)
}

#[mvi::observe(error_if = Option::is_none)]
fn lookup(flag: bool) -> Option<u8> {
    flag.then_some(1)
}

#[mvi::observe]
fn evens(limit: u8) -> impl Iterator<Item = u8> {
    (0..limit).filter(|n| n % 2 == 0)
}

#[mvi::observe]
fn show<T: Display>(value: T) -> String {
    format!("<{value}>")
}

#[mvi::observe(counter(name = "conversions_total", help = "Conversions, by result."))]
fn convert<E: Into<Oops>>(r: Result<u8, E>) -> Result<u8, Oops> {
    Ok(r.map_err(Into::into)? + 1)
}

impl From<()> for Oops {
    fn from(_: ()) -> Self {
        Oops
    }
}

struct Cart {
    items: Vec<u32>,
}

#[mvi::observe]
impl Cart {
    fn add(&mut self, item: u32) -> &mut u32 {
        self.items.push(item);
        self.items.last_mut().unwrap()
    }

    #[mvi::observe(skip)]
    fn len(&self) -> usize {
        self.items.len()
    }

    #[mvi::observe(concurrency)]
    async fn total(&self) -> u32 {
        tokio::task::yield_now().await;
        self.items.iter().sum()
    }
}

struct Lone;

impl Lone {
    #[mvi::observe]
    fn method(&self) -> u8 {
        7
    }
}

trait Shape {
    fn area(&self) -> f64;
}

#[mvi::observe]
impl Shape for Lone {
    fn area(&self) -> f64 {
        1.0
    }
}

#[mvi::observe]
async fn fetch(id: u32) -> Result<u32, String> {
    tokio::task::yield_now().await;
    if id == 0 {
        return Err("no such id".into());
    }
    let n: u32 = id.to_string().parse().map_err(|_| "bad".to_string())?;
    Ok(n)
}

#[mvi::observe]
fn boom() {
    panic!("boom");
}

#[mvi::observe(counter, concurrency)]
fn boom_in_flight() {
    panic!("boom");
}

#[mvi::observe(counter, concurrency)]
async fn slow_in_flight() {
    tokio::task::yield_now().await;
}

fn gauge(
    snapshot: &[(
        CompositeKey,
        Option<metrics::Unit>,
        Option<metrics::SharedString>,
        DebugValue,
    )],
    function: &str,
) -> Option<f64> {
    snapshot
        .iter()
        .find(|(k, ..)| {
            k.kind() == MetricKind::Gauge && k.key().labels().any(|l| l.value() == function)
        })
        .map(|(.., v)| match v {
            DebugValue::Gauge(g) => g.into_inner(),
            _ => f64::NAN,
        })
}

#[test]
fn concurrency_gauge_returns_to_zero_on_panic_and_cancel() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let snap = with_recorder(|| {
        assert!(std::panic::catch_unwind(boom_in_flight).is_err());
        rt.block_on(async {
            let mut fut = Box::pin(slow_in_flight());
            assert!(futures_poll_once(fut.as_mut()).await.is_none());
            drop(fut);
            slow_in_flight().await;
        });
    });
    assert_eq!(gauge(&snap, "boom_in_flight"), Some(0.0));
    assert_eq!(gauge(&snap, "slow_in_flight"), Some(0.0));
    assert_eq!(
        calls(&snap, "function_calls_total", "boom_in_flight", "error"),
        1
    );
    assert_eq!(
        calls(&snap, "function_calls_total", "slow_in_flight", "cancelled"),
        1
    );
    assert_eq!(
        calls(&snap, "function_calls_total", "slow_in_flight", "ok"),
        1
    );
}

#[mvi::observe(labels(region = order.region, tier = order.tier))]
fn place(order: &Order) -> bool {
    !order.region.is_empty()
}

struct Order {
    region: String,
    tier: &'static str,
}

fn calls(
    snapshot: &[(
        CompositeKey,
        Option<metrics::Unit>,
        Option<metrics::SharedString>,
        DebugValue,
    )],
    name: &str,
    function: &str,
    result: &str,
) -> u64 {
    snapshot
        .iter()
        .filter(|(k, ..)| k.kind() == MetricKind::Counter && k.key().name() == name)
        .filter(|(k, ..)| {
            k.key()
                .labels()
                .any(|l| l.key() == "function" && l.value() == function)
        })
        .filter(|(k, ..)| {
            k.key()
                .labels()
                .any(|l| l.key() == "result" && l.value() == result)
        })
        .map(|(.., v)| match v {
            DebugValue::Counter(c) => *c,
            _ => 0,
        })
        .sum()
}

fn with_recorder(
    f: impl FnOnce(),
) -> Vec<(
    CompositeKey,
    Option<metrics::Unit>,
    Option<metrics::SharedString>,
    DebugValue,
)> {
    let recorder = DebuggingRecorder::new();
    let snapshotter: Snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, f);
    snapshotter.snapshot().into_vec()
}

#[test]
fn results_are_classified() {
    let snap = with_recorder(|| {
        assert_eq!(parse_qty("3"), Ok(3));
        assert_eq!(parse_qty("0"), Ok(1));
        assert!(parse_qty("x").is_err());
        assert_eq!(maybe(false), None);
        assert_eq!(lookup(false), None);
        assert_eq!(lookup(true), Some(1));
        assert_eq!(evens(5).collect::<Vec<_>>(), [0, 2, 4]);
        assert_eq!(show(5), "<5>");
        assert!(convert::<()>(Err(())).is_err());
    });
    assert_eq!(calls(&snap, "function_calls_total", "parse_qty", "ok"), 2);
    assert_eq!(
        calls(&snap, "function_calls_total", "parse_qty", "error"),
        1
    );
    assert_eq!(calls(&snap, "function_calls_total", "maybe", "ok"), 1);
    assert_eq!(calls(&snap, "function_calls_total", "lookup", "error"), 1);
    assert_eq!(calls(&snap, "function_calls_total", "lookup", "ok"), 1);
    assert_eq!(calls(&snap, "function_calls_total", "evens", "ok"), 1);
    assert_eq!(calls(&snap, "function_calls_total", "show", "ok"), 1);
    assert_eq!(calls(&snap, "conversions_total", "convert", "error"), 1);
}

#[test]
fn methods_are_named_by_type() {
    let snap = with_recorder(|| {
        let mut cart = Cart { items: vec![] };
        *cart.add(2) += 1;
        assert_eq!(cart.len(), 1);
        assert_eq!(Lone.method(), 7);
        assert_eq!(Lone.area(), 1.0);
    });
    assert_eq!(calls(&snap, "function_calls_total", "Cart::add", "ok"), 1);
    assert_eq!(calls(&snap, "function_calls_total", "Cart::len", "ok"), 0);
    assert_eq!(
        calls(&snap, "function_calls_total", "Lone::method", "ok"),
        1
    );
    assert_eq!(calls(&snap, "function_calls_total", "Lone::area", "ok"), 1);
}

#[test]
fn panics_count_as_errors() {
    let snap = with_recorder(|| {
        assert!(std::panic::catch_unwind(boom).is_err());
    });
    assert_eq!(calls(&snap, "function_calls_total", "boom", "error"), 1);
}

#[test]
fn labels_from_arguments() {
    let snap = with_recorder(|| {
        assert!(place(&Order {
            region: "eu".into(),
            tier: "gold"
        }));
    });
    let key = snap
        .iter()
        .find(|(k, ..)| k.key().name() == "function_calls_total")
        .unwrap()
        .0
        .key()
        .clone();
    let labels: Vec<(String, String)> = key
        .labels()
        .map(|l| (l.key().to_string(), l.value().to_string()))
        .collect();
    assert!(
        labels.contains(&("region".into(), "eu".into())),
        "{labels:?}"
    );
    assert!(
        labels.contains(&("tier".into(), "gold".into())),
        "{labels:?}"
    );
}

#[test]
fn async_results_and_cancellation() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let snap = with_recorder(|| {
        rt.block_on(async {
            assert_eq!(fetch(3).await, Ok(3));
            assert!(fetch(0).await.is_err());
            let cart = Cart { items: vec![1, 2] };
            assert_eq!(cart.total().await, 3);
            // Polled once, then dropped mid-way: cancelled.
            let mut fut = Box::pin(fetch(5));
            assert!(futures_poll_once(fut.as_mut()).await.is_none());
            drop(fut);
        });
    });
    assert_eq!(calls(&snap, "function_calls_total", "fetch", "ok"), 1);
    assert_eq!(calls(&snap, "function_calls_total", "fetch", "error"), 1);
    assert_eq!(
        calls(&snap, "function_calls_total", "fetch", "cancelled"),
        1
    );
}

async fn futures_poll_once<F: std::future::Future + Unpin>(mut fut: F) -> Option<F::Output> {
    std::future::poll_fn(|cx| {
        std::task::Poll::Ready(match std::pin::Pin::new(&mut fut).poll(cx) {
            std::task::Poll::Ready(v) => Some(v),
            std::task::Poll::Pending => None,
        })
    })
    .await
}
