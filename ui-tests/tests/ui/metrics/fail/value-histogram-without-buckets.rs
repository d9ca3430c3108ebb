mvi::metrics! {
    /// Value of orders, in euros.
    histogram(unit = "euros") ORDER_VALUE: "shop_order_value_euros";
}

fn main() {}
