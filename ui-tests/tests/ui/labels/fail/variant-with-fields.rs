#[derive(mvi::LabelValue)]
enum Region {
    Eu,
    Custom(String),
}

fn main() {}
