struct Worker;

#[mvi::observe(span(parent = None))]
impl Worker {
    fn run(&self) {}
}

fn main() {}
