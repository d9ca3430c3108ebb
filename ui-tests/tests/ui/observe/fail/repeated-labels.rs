#[mvi::observe(labels(region = "eu"), labels(tier = "gold"))]
fn handle() {}

fn main() {}
