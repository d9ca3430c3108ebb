#[mvi::observe(counter(name = "uploaded_b_total"))]
fn upload() {}

fn main() {}
