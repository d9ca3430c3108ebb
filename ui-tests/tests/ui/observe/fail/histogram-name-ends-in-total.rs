#[mvi::observe(histogram(name = "checkout_total"))]
fn checkout() {}

fn main() {}
