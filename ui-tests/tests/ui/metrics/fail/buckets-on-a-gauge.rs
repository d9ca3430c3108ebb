mvi::metrics! {
    /// Orders waiting to be shipped.
    gauge(buckets = [1, 10]) BACKLOG: "shop_backlog_orders";
}

fn main() {}
