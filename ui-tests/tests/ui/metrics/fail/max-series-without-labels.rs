mvi::metrics! {
    /// Refunds.
    counter(max_series = 10) REFUNDS: "shop_refunds_total";
}

fn main() {}
