#[derive(mvi::LabelValue)]
enum Tier {
    #[label(renmae = "x")]
    Free,
}

#[derive(mvi::Labels)]
struct Labels {
    #[label(rename = "y")]
    tier: bool,
}

fn main() {}
