#[mvi::observe(labels(quantile = "x"))]
fn handle() {}

fn main() {}
