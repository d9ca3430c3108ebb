mvi::metrics! {
    /// Latency.
    summary LATENCY: "shop_latency_seconds";
}

fn main() {}
