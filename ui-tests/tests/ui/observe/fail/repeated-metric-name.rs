#[mvi::observe(counter(name = "a_total", name = "b_total"))]
fn handle() {}

fn main() {}
