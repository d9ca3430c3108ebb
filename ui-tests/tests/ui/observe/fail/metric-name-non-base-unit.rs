#[mvi::observe(counter(name = "uploaded_kilobytes_total"))]
fn upload() {}

fn main() {}
