#[derive(mvi::Labels)]
struct Labels {
    result: bool,
}

#[mvi::observe(labels = labels)]
fn place(labels: &Labels) -> bool {
    labels.result
}

fn main() {}
