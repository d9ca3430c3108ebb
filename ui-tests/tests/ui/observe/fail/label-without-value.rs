#[mvi::observe(labels(region))]
fn handle() {}

fn main() {}
