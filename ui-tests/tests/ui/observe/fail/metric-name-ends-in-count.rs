#[mvi::observe(counter(name = "orders_count"))]
fn place() {}

fn main() {}
