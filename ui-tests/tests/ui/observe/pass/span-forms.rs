//! `span` with every other option, on every kind of function, and `span(parent = ...)`.
use std::collections::HashMap;

#[derive(mvi::LabelValue, Clone, Copy)]
enum Region {
    Eu,
    Us,
}

#[mvi::observe(span)]
fn parse_qty(s: &str) -> Result<u32, std::num::ParseIntError> {
    let n: u32 = s.parse()?;
    Ok(n)
}

#[mvi::observe(span, counter, histogram(buckets = exponential(0.01, 2, 8)), concurrency, labels(region = region), max_series = 10)]
async fn ship(region: Region, id: u32) -> Option<u32> {
    Some(id)
}

#[mvi::observe(span, error_if = Option::is_none)]
fn lookup(found: bool) -> Option<u32> {
    found.then_some(1)
}

#[mvi::observe(span)]
fn evens(n: u32) -> impl Iterator<Item = u32> {
    (0..n).filter(|x| x % 2 == 0)
}

#[mvi::observe(span)]
fn first<T: Clone>(items: &[T]) -> Option<T> {
    items.first().cloned()
}

#[mvi::observe(span(parent = mvi::propagation::extract_from(headers)))]
async fn consume(headers: &HashMap<String, String>) -> usize {
    headers.len()
}

#[mvi::observe(span(parent = None), crate = "mvi")]
fn job() {}

struct Cart {
    items: Vec<u32>,
}

#[mvi::observe(span)]
impl Cart {
    fn add(&mut self, item: u32) -> &mut u32 {
        self.items.push(item);
        self.items.last_mut().expect("just pushed")
    }

    #[mvi::observe(skip)]
    fn len(&self) -> usize {
        self.items.len()
    }

    #[mvi::observe(span(parent = mvi::context::capture()), counter)]
    async fn checkout(&self) -> Result<usize, String> {
        Ok(self.items.len())
    }
}

trait Store {
    fn get(&self, id: u32) -> Option<u32>;
}

struct Memory;

impl Store for Memory {
    #[mvi::observe(span)]
    fn get(&self, id: u32) -> Option<u32> {
        Some(id)
    }
}

fn main() {
    let _ = parse_qty("1");
    let _ = ship(Region::Eu, 1);
    let _ = ship(Region::Us, 2);
    let _ = lookup(true);
    let _ = evens(4).count();
    let _ = first(&[1, 2]);
    let _ = consume(&HashMap::new());
    job();
    let mut cart = Cart { items: Vec::new() };
    *cart.add(1) += 1;
    let _ = cart.len();
    let _ = cart.checkout();
    let _ = Memory.get(1);
}
