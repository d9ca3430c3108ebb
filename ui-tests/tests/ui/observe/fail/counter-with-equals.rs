#[mvi::observe(counter = "orders_total")]
fn handle() {}

fn main() {}
