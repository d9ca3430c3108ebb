mvi::metrics! {
    /// Orders waiting to be shipped.
    gauge(callback, callback) BACKLOG: "shop_backlog_orders";
}

fn main() {}
