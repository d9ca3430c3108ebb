#[mvi::observe(counter(name = orders_total))]
fn place() {}

fn main() {}
