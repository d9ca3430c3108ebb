use std::rc::Rc;

#[mvi::traced_handler]
async fn index() -> String {
    let shared = Rc::new(5);
    tokio::task::yield_now().await;
    shared.to_string()
}

fn main() {}
