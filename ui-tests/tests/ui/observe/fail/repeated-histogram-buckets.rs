#[mvi::observe(histogram(buckets = [0.1], buckets = [0.2]))]
fn handle() {}

fn main() {}
