mvi::metrics! {
    /// Items sold.
    counter ITEMS_SOLD: "shop_items_sold_total" {
        a: bool, b: bool, c: bool, d: bool, e: bool, f: bool, g: bool, h: bool, i: bool,
    };
}

fn main() {}
