mvi::metrics! {
    /// Value of orders.
    histogram(buckets = [10, 100], buckets = [1, 5]) ORDER_VALUE: "shop_order_value_euros";
}

fn main() {}
