#[mvi::observe(labels(ratio = ratio))]
fn handle(ratio: f64) -> f64 {
    ratio * 2.0
}

fn main() {}
