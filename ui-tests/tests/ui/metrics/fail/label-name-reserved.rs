mvi::metrics! {
    /// Items sold.
    counter ITEMS_SOLD: "shop_items_sold_total" { le: u8 };
}

fn main() {}
