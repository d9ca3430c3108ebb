//! A metric of `mvi::metrics!` is declared once: a second declaration of its name, by `metrics!` or by
//! another macro, refuses to install, naming both places; and so does one name with two kinds.

mod checkout {
    mvi::metrics! {
        /// Orders paid.
        pub counter PAID: "shop_paid_total";
        /// Carts abandoned.
        pub counter ABANDONED: "shop_abandoned_total";
    }
}

mod billing {
    mvi::metrics! {
        /// Orders paid, as billing sees them.
        pub counter PAID: "shop_paid_total";
    }
}

// The same kind as `ABANDONED`, from another macro: still its name.
#[mvi::observe(counter(name = "shop_abandoned_total"))]
fn abandon() {}

mvi::metrics! {
    /// How long the oldest open cart has been open.
    gauge OLDEST_CART: "shop_cart_open_seconds";
}

// Another kind under the same name.
#[mvi::observe(histogram(name = "shop_cart_open_seconds"))]
fn open_cart() {}

#[test]
fn second_declarations_refuse_to_install() {
    checkout::PAID.inc();
    billing::PAID.inc();
    checkout::ABANDONED.inc();
    abandon();
    OLDEST_CART.set(1.0);
    open_cart();
    let text = mvi_tests::install_refused_for_conflicts(3);
    assert!(
        text.contains(
            "metric `shop_paid_total` is declared at tests/tests/declared_conflict.rs:7:27 (`PAID`) and again at tests/tests/declared_conflict.rs:16:27 (`PAID`); a metric of `mvi::metrics!` is declared once, and nothing else records it, so remove one declaration or give one of them its own name, like `PAID: \"billing_paid_total\"`"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "metric `shop_abandoned_total` is declared at tests/tests/declared_conflict.rs:9:32 (`ABANDONED`) and again at tests/tests/declared_conflict.rs:21:31 (`abandon`);"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "metric `shop_cart_open_seconds` is declared as a gauge at tests/tests/declared_conflict.rs:26:24 (`OLDEST_CART`) but as a histogram at tests/tests/declared_conflict.rs:30:"
        ),
        "{text}"
    );
}
