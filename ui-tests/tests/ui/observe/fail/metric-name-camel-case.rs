#[mvi::observe(counter(name = "ordersPlaced_total"))]
fn place() {}

fn main() {}
