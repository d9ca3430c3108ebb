mvi::metrics! {
    counter ITEMS_SOLD: "shop_items_sold_total";
}

fn main() {}
