#[mvi::traced_handler(buckets = [0.1, 1.0], buckets = [0.5, 5.0])]
async fn index() -> &'static str {
    "hi"
}

fn main() {}
