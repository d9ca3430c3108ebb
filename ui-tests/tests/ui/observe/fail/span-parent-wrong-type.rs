#[mvi::observe(span(parent = id))]
fn handle(id: u64) -> u64 {
    id
}

fn main() {}
