#[derive(mvi::Labels)]
struct Labels {
    #[label(name = "userTier")]
    tier: bool,
}

fn main() {}
