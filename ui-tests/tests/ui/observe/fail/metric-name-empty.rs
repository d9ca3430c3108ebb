#[mvi::observe(counter(name = ""))]
fn place() {}

fn main() {}
