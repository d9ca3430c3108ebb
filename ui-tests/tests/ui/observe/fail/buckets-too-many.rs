#[mvi::observe(histogram(buckets = exponential(0.001, 1.1, 65)))]
fn handle() {}

fn main() {}
