#[mvi::observe(span = true)]
fn handle() {}

fn main() {}
