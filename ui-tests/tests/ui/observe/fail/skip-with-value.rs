#[mvi::observe(skip = true)]
fn handle() {}

fn main() {}
