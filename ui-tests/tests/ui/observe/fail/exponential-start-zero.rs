#[mvi::observe(histogram(buckets = exponential(0.0, 2, 8)))]
fn handle() {}

fn main() {}
