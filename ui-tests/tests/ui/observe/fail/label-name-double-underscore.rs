#[mvi::observe(labels(__region = "eu"))]
fn handle() {}

fn main() {}
