#[mvi::observe(labels(user = user), max_series = 10, max_series = 20)]
fn handle(user: String) {
    let _ = user;
}

fn main() {}
