mvi::metrics! {
    /// Items in stock, per product.
    gauge(callback) STOCK: "shop_stock_items" { product: String };
}

fn main() {
    STOCK.register(|report| report(3.0));
}
