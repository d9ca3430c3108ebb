#[mvi::observe(counter(name = "9lives_total"))]
fn live() {}

fn main() {}
