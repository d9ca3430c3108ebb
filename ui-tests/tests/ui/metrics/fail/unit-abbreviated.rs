mvi::metrics! {
    /// Time to pack.
    histogram(unit = "ms", buckets = [1, 10]) PACKING: "shop_packing_duration";
}

fn main() {}
