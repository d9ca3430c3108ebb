mvi::metrics! {
    /// Items sold.
    pub static ITEMS_SOLD: u64 = 0;
}

fn main() {}
