#[mvi::observe(histogram(buckets = []))]
fn handle() {}

fn main() {}
