#[mvi::observe(crate = mvi, crate = mvi)]
fn handle() {}

fn main() {}
