#[allow(non_snake_case)]
mod shop {
    mvi::metrics! {
        /// Items sold.
        pub counter ITEMS_SOLD: "shop_items_sold_total" { userTier: bool };
    }
}

fn main() {
    shop::ITEMS_SOLD.inc(true);
}
