mvi::metrics! {
    /// Orders waiting, by warehouse.
    gauge BACKLOG: "shop_backlog_orders" { warehouse: String };
}

// `String` labels are taken as `&str`, so a call never allocates.
fn main() {
    let warehouse = String::from("north");
    BACKLOG.set(3.0, warehouse);
}
