#[mvi::observe(histogram, histogram(buckets = [0.1, 1.0]))]
fn handle() {}

fn main() {}
