//! The workspace checks its own metric contract with `mvi::contract`, as a user's test suite would:
//! this program's catalog against `tests/metrics.contract.json`.

use std::panic::AssertUnwindSafe;

#[derive(mvi::LabelValue, Clone, Copy)]
enum Tier {
    Free,
    Pro,
}

#[mvi::observe(labels(tier = tier))]
fn checkout(tier: Tier) -> Result<(), String> {
    match tier {
        Tier::Free => Err("upgrade first".into()),
        Tier::Pro => Ok(()),
    }
}

#[mvi::observe(
    counter(name = "invoices_sent_total", help = "Invoices sent."),
    histogram(name = "invoice_render_seconds", buckets = exponential(0.01, 2, 6))
)]
fn send_invoice() {}

#[mvi::traced_handler]
async fn show_invoice() -> &'static str {
    "invoice"
}

const CONTRACT: &str = "metrics.contract.json";

#[test]
fn the_catalog_keeps_the_committed_contract() {
    assert!(checkout(Tier::Pro).is_ok() && checkout(Tier::Free).is_err());
    send_invoice();
    let _ = show_invoice;
    mvi::contract::check(CONTRACT);
}

/// A contract this program no longer meets fails with every change and where it is declared now.
#[test]
fn a_broken_contract_fails_with_a_readable_diff() {
    if std::env::var_os(mvi::contract::BLESS_ENV).is_some() {
        return; // re-blessing: the check writes instead of failing
    }
    let committed = std::fs::read_to_string(CONTRACT).unwrap();
    let broken = committed
        .replace("\"invoices_sent_total\"", "\"invoices_total\"")
        .replace("\"tier\"", "\"plan\"");
    assert_ne!(broken, committed);
    let path = std::env::temp_dir().join(format!("mvi-contract-test-{}.json", std::process::id()));
    std::fs::write(&path, broken).unwrap();
    let failure = std::panic::catch_unwind(AssertUnwindSafe(|| mvi::contract::check(&path)));
    let _ = std::fs::remove_file(&path);
    let payload = failure.expect_err("a broken contract fails");
    let message = payload.downcast_ref::<String>().unwrap();
    assert!(message.contains("is broken"), "{message}");
    assert!(
        message.contains("  - counter `invoices_total` is gone: removed or renamed (recorded by `send_invoice` in `contract`); renamed to `invoices_sent_total` (declared at tests/tests/contract.rs:"),
        "{message}"
    );
    assert!(
        message.contains("label `plan` removed or renamed"),
        "{message}"
    );
    assert!(message.contains("MVI_CONTRACT_BLESS=1"), "{message}");
}
