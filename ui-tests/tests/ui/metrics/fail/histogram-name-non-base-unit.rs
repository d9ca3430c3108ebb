mvi::metrics! {
    /// Size of uploaded files.
    histogram(buckets = exponential(1, 4, 6)) UPLOAD_SIZE: "shop_upload_size_kilobytes";
}

fn main() {}
