mvi::metrics! {
    crate = ::mvi;
    /// Items sold.
    counter ITEMS_SOLD: "shop_items_sold_total";
    crate = ::mvi;
}

fn main() {}
