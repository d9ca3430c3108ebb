#[mvi::observe(labels(le = "x"))]
fn handle() {}

fn main() {}
