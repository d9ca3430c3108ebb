mvi::metrics! {
    /// Value of orders.
    histogram(buckets = [10, 100]) ORDER_VALUE: "shop_order_value_total";
}

fn main() {}
