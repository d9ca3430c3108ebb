mvi::metrics! {
    /// Items sold.
    counter(buckets = [1, 10]) ITEMS_SOLD: "shop_items_sold_total";
}

fn main() {}
