mvi::metrics! {
    /// Items sold.
    counter ITEMS_SOLD: "shopItemsSold_total";
}

fn main() {}
