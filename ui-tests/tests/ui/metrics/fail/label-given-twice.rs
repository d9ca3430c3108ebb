mvi::metrics! {
    /// Items sold.
    counter ITEMS_SOLD: "shop_items_sold_total" { region: &str, region: &str };
}

fn main() {
    ITEMS_SOLD.inc("eu");
}
