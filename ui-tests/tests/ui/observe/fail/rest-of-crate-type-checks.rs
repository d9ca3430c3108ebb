// The bad name is reported, and the function is still there for the rest of the crate: the type
// error in `main` is found too, with no error about `place` being missing.
#[mvi::observe(counter(name = "orders"))]
fn place() -> u32 {
    1
}

fn main() {
    let _n: String = place();
}
