fn read() -> f64 {
    1.0
}

mvi::metrics! {
    /// Orders waiting to be shipped.
    gauge(callback = read) BACKLOG: "shop_backlog_orders";
}

fn main() {
    let _ = read;
}
