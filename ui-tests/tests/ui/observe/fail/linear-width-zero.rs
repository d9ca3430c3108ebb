#[mvi::observe(histogram(buckets = linear(0.05, 0, 10)))]
fn handle() {}

fn main() {}
