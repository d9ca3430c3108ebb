#[mvi::observe(counter(name = "a_total", name = "b_total"))]
fn a() {}

#[mvi::observe(counter(help = "One.", help = "Two."))]
fn b() {}

#[mvi::observe(histogram(buckets = [0.1], buckets = [0.2]))]
fn c() {}

fn main() {}
