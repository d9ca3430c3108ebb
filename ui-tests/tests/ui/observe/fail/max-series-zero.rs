#[mvi::observe(labels(user = user), max_series = 0)]
fn handle(user: String) {
    let _ = user;
}

fn main() {}
