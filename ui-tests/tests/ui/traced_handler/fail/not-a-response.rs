struct Order {
    id: u32,
}

#[mvi::traced_handler]
async fn show() -> Order {
    Order { id: 7 }
}

fn main() {}
