#[mvi::observe(histogram(bukets = [0.1, 1.0]))]
fn handle() {}

fn main() {}
