#[mvi::observe(labels(région = "eu"))]
fn handle() {}

fn main() {}
