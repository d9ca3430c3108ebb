mvi::metrics! {
    /// Value of orders.
    histogram(bukets = [10, 100]) ORDER_VALUE: "shop_order_value_euros";
}

fn main() {}
