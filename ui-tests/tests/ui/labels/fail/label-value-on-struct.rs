#[derive(mvi::LabelValue)]
struct Region {
    name: String,
}

fn main() {}
