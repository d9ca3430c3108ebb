mvi::metrics! {
    /// Value of orders.
    histogram(unit = "euros", buckets = [10, 100]) ORDER_VALUE: "shop_order_value";
}

fn main() {}
