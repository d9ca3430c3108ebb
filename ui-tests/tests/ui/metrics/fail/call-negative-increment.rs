mvi::metrics! {
    /// Refunds.
    counter REFUNDS: "shop_refunds_total";
}

// A counter only goes up.
fn main() {
    REFUNDS.add(-1);
}
