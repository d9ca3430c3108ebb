#[mvi::observe(histogram(buckets = [-0.5, 0.5, 1.0]))]
fn handle() {}

fn main() {}
