#[mvi::traced_handler(name = "checkout_latency_ms")]
async fn index() -> &'static str {
    "hi"
}

fn main() {}
