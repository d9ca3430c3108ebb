#[mvi::observe(concurrency(nmae = "busy_jobs"))]
fn handle() {}

fn main() {}
