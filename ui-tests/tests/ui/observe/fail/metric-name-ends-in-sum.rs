#[mvi::observe(histogram(name = "checkout_sum"))]
fn checkout() {}

fn main() {}
