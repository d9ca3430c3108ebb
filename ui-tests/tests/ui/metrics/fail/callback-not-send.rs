use std::rc::Rc;

mvi::metrics! {
    /// Orders in the payment queue.
    gauge(callback) PAYMENT_QUEUE: "shop_payment_queue_orders";
}

// The callback runs on the scrape's thread.
fn main() {
    let queue = Rc::new(vec![1, 2, 3]);
    PAYMENT_QUEUE.register(move |report| report(queue.len() as f64));
}
