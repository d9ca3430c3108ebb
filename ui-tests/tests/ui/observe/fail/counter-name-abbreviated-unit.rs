#[mvi::observe(counter(name = "busy_secs_total"))]
fn work() {}

fn main() {}
