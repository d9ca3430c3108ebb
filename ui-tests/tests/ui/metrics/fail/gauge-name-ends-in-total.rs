mvi::metrics! {
    /// Orders waiting to be shipped.
    gauge BACKLOG: "shop_backlog_total";
}

fn main() {}
