#[mvi::observe(histogram(buckets = exponential(0.01, 1, 8)))]
fn handle() {}

fn main() {}
