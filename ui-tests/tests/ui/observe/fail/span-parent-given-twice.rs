#[mvi::observe(span(parent = None, parent = None))]
fn handle() {}

fn main() {}
