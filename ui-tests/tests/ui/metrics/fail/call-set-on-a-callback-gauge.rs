mvi::metrics! {
    /// Orders in the payment queue, read at each scrape.
    gauge(callback) PAYMENT_QUEUE: "shop_payment_queue_orders";
}

// A gauge read at each scrape is only read: its callback reports its value.
fn main() {
    PAYMENT_QUEUE.set(3.0);
}
