#[mvi::observe(labels = labels)]
fn handle<L: mvi::Labels>(labels: L) {
    let _ = labels;
}

fn main() {}
