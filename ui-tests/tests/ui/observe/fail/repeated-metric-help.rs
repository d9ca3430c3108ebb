#[mvi::observe(counter(help = "One.", help = "Two."))]
fn handle() {}

fn main() {}
