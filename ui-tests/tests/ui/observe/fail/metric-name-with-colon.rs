#[mvi::observe(counter(name = "jobs:done_total"))]
fn finish() {}

fn main() {}
