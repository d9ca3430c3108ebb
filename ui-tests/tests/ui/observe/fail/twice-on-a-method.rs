struct Cart;

#[mvi::observe]
impl Cart {
    #[mvi::observe(counter)]
    #[mvi::observe(histogram)]
    fn add(&self) {}
}

fn main() {}
