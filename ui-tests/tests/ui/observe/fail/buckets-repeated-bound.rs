#[mvi::observe(histogram(buckets = [0.1, 0.1]))]
fn handle() {}

fn main() {}
