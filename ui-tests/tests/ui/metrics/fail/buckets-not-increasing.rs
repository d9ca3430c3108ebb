mvi::metrics! {
    /// Value of orders.
    histogram(buckets = [10, 100, 50]) ORDER_VALUE: "shop_order_value_euros";
}

fn main() {}
