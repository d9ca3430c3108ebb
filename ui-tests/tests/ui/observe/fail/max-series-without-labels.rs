#[mvi::observe(counter, max_series = 100)]
fn handle() {}

fn main() {}
