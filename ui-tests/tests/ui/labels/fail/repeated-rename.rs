#[derive(mvi::LabelValue)]
enum Tier {
    #[label(rename = "basic", rename = "starter")]
    Free,
    Pro,
}

fn main() {}
