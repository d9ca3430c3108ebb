#[mvi::traced_handler]
async fn index<T: Default>() -> String {
    String::new()
}

fn main() {}
