//! In a program that installs neither mvi nor any `metrics` recorder (a library's own tests, or an
//! application that does not want metrics), observed calls and declared metrics record nothing and
//! allocate nothing, from the first call on. A recorder set later still sees the calls.

use metrics_util::debugging::DebuggingRecorder;
use mvi_tests::alloc::{Counting, allocations_during};

#[global_allocator]
static GLOBAL: Counting = Counting;

#[derive(mvi::LabelValue, Clone, Copy)]
enum Tier {
    Free,
    Pro,
}

mvi::metrics! {
    /// Parcels shipped, by tier.
    counter SHIPPED: "lib_parcels_shipped_total" { tier: Tier };
    /// Parcels shipped, by carrier.
    counter BY_CARRIER: "lib_parcels_by_carrier_total" { carrier: String };
    /// Weight of each parcel.
    histogram(unit = "grams", buckets = [100, 1000]) WEIGHT: "lib_parcel_weight_grams";
}

#[mvi::observe]
fn checkout(cents: u64) -> Result<u64, &'static str> {
    if cents == 0 { Err("empty") } else { Ok(cents) }
}

#[mvi::observe(concurrency, labels(tier = tier, carrier = carrier, source = "web"))]
fn ship(tier: Tier, carrier: &str) -> usize {
    SHIPPED.inc(tier);
    BY_CARRIER.inc(carrier);
    WEIGHT.record(250.0);
    carrier.len()
}

struct Depot;

impl Depot {
    #[mvi::observe]
    async fn load(&self, id: u64) -> u64 {
        id
    }
}

#[test]
fn without_a_recorder_nothing_is_allocated_from_the_first_call() {
    let carriers = ["post", "courier"].map(String::from);
    let allocations = allocations_during(|| {
        for i in 0..1_000u64 {
            std::hint::black_box(checkout(i).is_ok());
            let tier = if i % 2 == 0 { Tier::Free } else { Tier::Pro };
            std::hint::black_box(ship(tier, &carriers[i as usize % 2]));
            let waker = std::task::Waker::noop();
            let mut cx = std::task::Context::from_waker(waker);
            let mut load = std::pin::pin!(Depot.load(i));
            while load.as_mut().poll(&mut cx).is_pending() {}
        }
    });
    assert_eq!(
        allocations, 0,
        "allocations in 3,000 calls without a recorder"
    );

    // The same calls under a real recorder (an in-memory one) are recorded, so the check above is
    // not one that skips every recorder.
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        checkout(0).unwrap_err();
        ship(Tier::Pro, "post");
    });
    let names: Vec<String> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, ..)| key.key().name().to_string())
        .collect();
    for name in [
        "function_calls_total",
        "function_calls_concurrent",
        "lib_parcels_shipped_total",
        "lib_parcels_by_carrier_total",
        "lib_parcel_weight_grams",
    ] {
        assert!(names.iter().any(|n| n == name), "{name} not in {names:?}");
    }
}
