#[mvi::observe(histogram(name = "checkout_latency_ms"))]
fn checkout() {}

fn main() {}
