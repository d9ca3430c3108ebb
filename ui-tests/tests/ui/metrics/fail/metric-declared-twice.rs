mvi::metrics! {
    /// Items sold.
    counter ITEMS_SOLD: "shop_items_sold_total";
    /// Items sold, again.
    counter ITEMS_SOLD_AGAIN: "shop_items_sold_total";
}

fn main() {}
