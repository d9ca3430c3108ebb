#[mvi::observe(span, counter, span)]
fn handle() {}

fn main() {}
