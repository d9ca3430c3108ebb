#[mvi::observe(labels(result = "fine"))]
fn handle() {}

fn main() {}
