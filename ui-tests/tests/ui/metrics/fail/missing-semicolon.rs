mvi::metrics! {
    /// Items sold.
    counter ITEMS_SOLD: "shop_items_sold_total"
    /// Refunds.
    counter REFUNDS: "shop_refunds_total";
}

fn main() {}
