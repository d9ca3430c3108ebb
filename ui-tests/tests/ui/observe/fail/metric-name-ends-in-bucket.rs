#[mvi::observe(counter(name = "requests_bucket"))]
fn handle() {}

fn main() {}
