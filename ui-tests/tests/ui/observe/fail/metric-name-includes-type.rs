#[mvi::observe(concurrency(name = "jobs_gauge"))]
fn work() {}

fn main() {}
