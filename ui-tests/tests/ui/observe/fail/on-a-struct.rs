#[mvi::observe]
struct Shop;

fn main() {}
