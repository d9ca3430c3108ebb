#[mvi::traced_handler]
fn index() -> &'static str {
    "hi"
}

fn main() {}
