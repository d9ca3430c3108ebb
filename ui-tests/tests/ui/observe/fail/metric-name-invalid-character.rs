#[mvi::observe(counter(name = "orders-placed_total"))]
fn place() {}

fn main() {}
