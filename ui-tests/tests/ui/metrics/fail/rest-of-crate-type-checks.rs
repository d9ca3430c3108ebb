// The bad name is reported once; the static is still there for the rest of the crate, whose own type
// error is found too, with nothing about `ITEMS_SOLD`.
mvi::metrics! {
    /// Items sold.
    counter ITEMS_SOLD: "shop_items_sold";
}

fn main() {
    ITEMS_SOLD.add(2);
    let _n: String = 5u32;
}
