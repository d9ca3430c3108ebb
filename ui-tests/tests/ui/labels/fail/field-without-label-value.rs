struct Opaque;

#[derive(mvi::Labels)]
struct Labels {
    region: bool,
    thing: Opaque,
}

fn main() {}
