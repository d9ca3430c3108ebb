#[mvi::traced_handler(bukets = [0.1, 1.0])]
async fn index() -> &'static str {
    "hi"
}

fn main() {}
