#[mvi::traced_handler(name = "a_seconds", name = "b_seconds")]
async fn index() -> &'static str {
    "hi"
}

fn main() {}
