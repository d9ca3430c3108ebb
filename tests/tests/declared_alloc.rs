//! After the first call with each label set, a call of a metric of `mvi::metrics!` allocates nothing,
//! whether its labels are closed (enums, `bool`), open (`&str`) or absent: counted by a global allocator.

use mvi_tests::alloc::{Counting, allocations_during};

#[global_allocator]
static GLOBAL: Counting = Counting;

#[derive(mvi::LabelValue, Clone, Copy)]
enum Region {
    Eu,
    Us,
}

mvi::metrics! {
    /// Items sold, by region and channel.
    counter ITEMS_SOLD: "items_sold_total" { region: Region, express: bool };
    /// Refunds.
    counter REFUNDS: "refunds_total";
    /// Coupons redeemed, by code.
    counter COUPONS: "coupons_redeemed_total" { code: String };
    /// Orders waiting, by region.
    gauge BACKLOG: "backlog_orders" { region: Region };
    /// Value of each order, in euros, by region and channel.
    histogram(unit = "euros", buckets = exponential(1, 2, 12)) ORDER_VALUE: "order_value_euros" { region: Region, channel: &str };
}

fn calls(i: u64) {
    let region = if i % 2 == 0 { Region::Eu } else { Region::Us };
    let code = ["SPRING", "SUMMER", "AUTUMN"][(i % 3) as usize];
    ITEMS_SOLD.add(i % 5, region, i % 3 == 0);
    REFUNDS.inc();
    COUPONS.inc(code);
    BACKLOG.set(i as f64, region);
    BACKLOG.dec(region);
    ORDER_VALUE.record(i as f64, region, code);
}

#[test]
fn declared_metrics_do_not_allocate_after_warm_up() {
    let _telemetry = mvi::Telemetry::builder()
        .without_admin_server()
        .install()
        .unwrap();
    for i in 0..12 {
        calls(i);
    }
    let n = allocations_during(|| {
        for i in 0..10_000 {
            calls(std::hint::black_box(i));
        }
    });
    assert_eq!(n, 0, "allocations in 60,000 calls of declared metrics");
    // The counter can see an allocation: this must count.
    assert!(allocations_during(|| drop(std::hint::black_box(Box::new(1u64)))) >= 1);
}
