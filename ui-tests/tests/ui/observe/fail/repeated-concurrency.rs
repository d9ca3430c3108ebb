#[mvi::observe(concurrency, concurrency)]
fn handle() {}

fn main() {}
