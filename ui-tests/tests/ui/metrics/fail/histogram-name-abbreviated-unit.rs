mvi::metrics! {
    /// Size of uploaded files.
    histogram(buckets = exponential(1024, 4, 6)) UPLOAD_SIZE: "shop_upload_size_kb";
}

fn main() {}
