#[mvi::traced_handler(name = "request_histogram_seconds")]
async fn index() -> &'static str {
    "hi"
}

fn main() {}
