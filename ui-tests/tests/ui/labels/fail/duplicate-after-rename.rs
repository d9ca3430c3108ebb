#[derive(mvi::Labels)]
struct Labels {
    region: bool,
    #[label(name = "region")]
    area: bool,
}

#[derive(mvi::LabelValue)]
enum Tier {
    Free,
    #[label(rename = "free")]
    Gratis,
}

fn main() {}
