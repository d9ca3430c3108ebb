#[mvi::traced_handler(buckets = [0.5, 0.25])]
async fn index() -> &'static str {
    "hi"
}

fn main() {}
