#[mvi::observe(counter(help = "  "))]
fn handle() {}

fn main() {}
