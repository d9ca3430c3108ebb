#[mvi::observe(labels(userTier = "gold"))]
fn handle() {}

fn main() {}
