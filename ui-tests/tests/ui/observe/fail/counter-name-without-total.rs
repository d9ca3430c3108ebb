#[mvi::observe(counter(name = "orders_placed"))]
fn place() {}

fn main() {}
