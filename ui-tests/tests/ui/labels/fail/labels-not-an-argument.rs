#[derive(mvi::Labels)]
struct Labels {
    express: bool,
}

#[mvi::observe(labels = compute())]
fn place(labels: &Labels) -> bool {
    labels.express
}

fn main() {}
