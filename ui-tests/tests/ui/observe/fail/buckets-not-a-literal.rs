const START: f64 = 0.01;

#[mvi::observe(histogram(buckets = exponential(START, 2, 8)))]
fn handle() {}

fn main() {}
