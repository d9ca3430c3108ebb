mvi::metrics! {
    /// Items sold.
    counter ITEMS_SOLD: "shop_items_sold_total";
    /// Items returned.
    counter ITEMS_SOLD: "shop_items_returned_total";
}

fn main() {
    ITEMS_SOLD.inc();
}
