#[mvi::observe(counter(name = "__orders_total"))]
fn place() {}

fn main() {}
