#[mvi::observe(histogram(buckets = [0.01, 0.1, 0.05, 1.0]))]
fn handle() {}

fn main() {}
