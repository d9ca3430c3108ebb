#[mvi::observe(concurrency(name = "jobs_running_total"))]
fn run() {}

fn main() {}
