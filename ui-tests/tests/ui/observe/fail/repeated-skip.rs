struct Cart;

#[mvi::observe]
impl Cart {
    #[mvi::observe(skip, skip)]
    fn len(&self) -> usize {
        0
    }
}

fn main() {}
