#[mvi::observe(concurrency(name = "jobs_created"))]
fn run() {}

fn main() {}
