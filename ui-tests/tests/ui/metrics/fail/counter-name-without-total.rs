mvi::metrics! {
    /// Items sold.
    counter ITEMS_SOLD: "shop_items_sold";
}

fn main() {}
