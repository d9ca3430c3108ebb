#[derive(mvi::LabelValue, Clone, Copy)]
enum Region {
    Eu,
}

mvi::metrics! {
    /// Items sold, by region.
    counter ITEMS_SOLD: "shop_items_sold_total" { region: Region };
}

fn main() {
    let _ = Region::Eu;
    ITEMS_SOLD.add(3, "eu");
}
