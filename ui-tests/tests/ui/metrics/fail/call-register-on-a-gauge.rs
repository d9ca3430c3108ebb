mvi::metrics! {
    /// Orders waiting to be shipped.
    gauge BACKLOG: "shop_backlog_orders";
}

// Only a `gauge(callback)` is read at each scrape.
fn main() {
    BACKLOG.register(|report| report(3.0));
}
