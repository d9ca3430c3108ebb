mvi::metrics! {
    /// Items sold.
    conter ITEMS_SOLD: "shop_items_sold_total";
}

// Read as the likely kind, so the rest of the crate still type-checks.
fn main() {
    ITEMS_SOLD.add(2);
}
