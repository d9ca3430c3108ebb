#[derive(mvi::Labels)]
struct Reserved {
    le: bool,
    #[label(name = "__name")]
    name: bool,
    quantile: bool,
}

fn main() {}
