#[mvi::observe(countr)]
fn handle() {}

fn main() {}
