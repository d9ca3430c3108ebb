mvi::metrics! {
    /// Items sold.
    counter(callback) ITEMS_SOLD: "shop_items_sold_total";
}

fn main() {}
