#[mvi::traced_handler(crate = mvi, crate = mvi)]
async fn index() -> &'static str {
    "hi"
}

fn main() {}
