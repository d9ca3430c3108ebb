#[mvi::observe(histogram(buckets = exponential(1e300, 1e10, 3)))]
fn handle() {}

fn main() {}
