struct NotLabels;

#[mvi::observe(labels = l)]
fn handle(l: NotLabels) {
    let _ = l;
}

fn main() {}
