mvi::metrics! {
    /// Refunds.
    counter(unit = "euros", unit = "dollars") REFUNDED: "shop_refunded_euros_total";
}

fn main() {}
