#[mvi::observe(histogram(name = "checkout_duration"))]
fn checkout() {}

fn main() {}
