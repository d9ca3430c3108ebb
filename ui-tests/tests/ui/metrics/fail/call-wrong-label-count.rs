#[derive(mvi::LabelValue, Clone, Copy)]
enum Region {
    Eu,
    Us,
}

mvi::metrics! {
    /// Items sold, by region.
    counter ITEMS_SOLD: "shop_items_sold_total" { region: Region };
}

fn main() {
    ITEMS_SOLD.add(3);
    ITEMS_SOLD.inc(Region::Eu, Region::Us);
}
