#[mvi::observe(histogram(buckets = fibonacci(1, 2, 8)))]
fn handle() {}

fn main() {}
