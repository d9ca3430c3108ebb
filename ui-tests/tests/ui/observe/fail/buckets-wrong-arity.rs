#[mvi::observe(histogram(buckets = exponential(0.01, 2)))]
fn handle() {}

fn main() {}
