#[mvi::traced_handler]
struct Handler;

fn main() {}
