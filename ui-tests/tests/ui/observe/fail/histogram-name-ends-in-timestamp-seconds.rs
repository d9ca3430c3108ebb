#[mvi::observe(histogram(name = "job_timestamp_seconds"))]
fn work() {}

fn main() {}
