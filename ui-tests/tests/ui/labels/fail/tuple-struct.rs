#[derive(mvi::Labels)]
struct OrderLabels(String, bool);

fn main() {}
