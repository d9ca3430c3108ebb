#[derive(mvi::Labels)]
struct OrderLabels {
    #[label(name = "plan", name = "tier")]
    tier: bool,
}

fn main() {}
