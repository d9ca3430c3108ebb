#[mvi::observe(span(parnet = None))]
fn handle() {}

fn main() {}
