mvi::metrics! {
    /// Refunds.
    counter REFUNDS: "shop_refunds_total";
}

fn main() {
    REFUNDS.set(3.0);
}
