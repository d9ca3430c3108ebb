#[mvi::observe(labels(region = "eu", tier = "gold", region = "us"))]
fn handle() {}

fn main() {}
