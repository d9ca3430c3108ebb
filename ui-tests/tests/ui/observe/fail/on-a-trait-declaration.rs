trait Store {
    #[mvi::observe]
    fn get(&self) -> u32;
}

fn main() {}
