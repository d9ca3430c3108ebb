#[mvi::observe(histogram(buckets = [0, 1, 2]))]
fn handle() {}

fn main() {}
