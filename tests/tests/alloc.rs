//! After warm-up, an `#[observe]`d call allocates nothing: counted by a global allocator.

use mvi_tests::alloc::{Counting, allocations_during};

#[global_allocator]
static GLOBAL: Counting = Counting;

#[derive(mvi::LabelValue, Clone, Copy)]
enum Tier {
    Free,
    Pro,
}

#[mvi::observe]
fn checkout(cents: u64) -> Result<u64, String> {
    if cents == 0 {
        Err(String::from("empty"))
    } else {
        Ok(cents)
    }
}

#[mvi::observe(
    counter(name = "upgrades_total"),
    histogram(name = "upgrade_duration_seconds"),
    concurrency(name = "upgrades_in_flight"),
    labels(tier = tier, source = "web")
)]
fn upgrade(tier: Tier) -> bool {
    matches!(tier, Tier::Pro)
}

#[mvi::observe]
async fn fetch(id: u64) -> u64 {
    tokio::task::yield_now().await;
    id
}

#[test]
fn observed_calls_do_not_allocate_after_warm_up() {
    let _telemetry = mvi::Telemetry::builder()
        .without_admin_server()
        .install()
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for i in 1..=10 {
        assert!(checkout(i).is_ok());
        upgrade(if i % 2 == 0 { Tier::Free } else { Tier::Pro });
        assert_eq!(rt.block_on(fetch(i)), i);
    }

    let sync_calls = allocations_during(|| {
        for i in 1..=10_000u64 {
            std::hint::black_box(checkout(i).is_ok());
            std::hint::black_box(upgrade(if i % 2 == 0 { Tier::Free } else { Tier::Pro }));
        }
    });
    assert_eq!(sync_calls, 0, "allocations in 20,000 observed sync calls");

    // The future of an `async fn` lives on the caller's stack here; polling it allocates nothing.
    let async_calls = allocations_during(|| {
        for i in 1..=10_000u64 {
            let waker = std::task::Waker::noop();
            let mut cx = std::task::Context::from_waker(waker);
            let mut fut = std::pin::pin!(fetch(i));
            while fut.as_mut().poll(&mut cx).is_pending() {}
        }
    });
    assert_eq!(async_calls, 0, "allocations in 10,000 observed async calls");

    // The counter can see an allocation: this must count.
    assert!(allocations_during(|| drop(std::hint::black_box(Box::new(1u64)))) >= 1);
}
