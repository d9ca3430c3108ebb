mvi::metrics! {
    /// Orders, by discount.
    counter ORDERS: "shop_orders_total" { discount: f64 };
    /// Value of orders.
    histogram(buckets = [10, 100]) ORDER_VALUE: "shop_order_value_euros" { discount: f64 };
}

// Reported once, at the declared type: not again at each call.
fn main() {
    ORDERS.inc(0.1);
    ORDER_VALUE.record(12.0, 0.1);
}
