#[mvi::observe(counter, counter)]
fn handle() {}

fn main() {}
