//! Every form of `#[observe]` compiles without a warning.
#![deny(warnings)]

use std::fmt::Display;

/// Doc comments and other attributes stay on the function.
#[must_use]
#[mvi::observe]
pub fn parse_qty(s: &str) -> Result<u32, std::num::ParseIntError> {
    let n: u32 = s.parse()?;
    if n == 0 {
        return Ok(1);
    }
    Ok(n)
}

#[mvi::observe(error_if = Option::is_none)]
fn lookup(flag: bool) -> Option<u8> {
    flag.then_some(1)
}

#[mvi::observe]
fn evens(limit: u8) -> impl Iterator<Item = u8> {
    (0..limit).filter(|n| n % 2 == 0)
}

#[mvi::observe]
fn show<T: Display>(value: T) -> String {
    format!("<{value}>")
}

#[mvi::observe(counter, histogram(buckets = exponential(0.01, 2, 8)))]
async fn fetch(id: u32) -> Result<u32, String> {
    if id == 0 {
        return Err("no such id".to_string());
    }
    Ok(id)
}

#[mvi::observe(histogram(buckets = linear(0.05, 0.05, 10)))]
fn linear_buckets() {}

#[mvi::observe(histogram(buckets = [0.005, 0.01, 0.05, 0.1, 0.5]))]
fn array_buckets() {}

#[mvi::observe(counter(name = "orders_placed_total", help = "Orders accepted by checkout"))]
fn place() {}

#[mvi::observe(concurrency)]
async fn in_flight() {}

#[mvi::observe(labels(region = region, tier = "gold", user = user.clone()))]
fn labelled(region: &'static str, user: &String) -> usize {
    region.len() + user.len()
}

#[mvi::observe(counter(name = "_private_total"), histogram(name = "http_request_duration_seconds"))]
fn unusual_but_valid_names() {}

#[mvi::observe(labels(tenant = tenant), max_series = 50)]
fn capped(tenant: String) -> usize {
    tenant.len()
}

#[mvi::observe(labels(kind = kind, flag = *flag))]
fn generic_label<K: mvi::LabelValue>(kind: K, flag: &bool) -> bool {
    let _ = kind;
    *flag
}

#[mvi::observe(labels(r#type = "raw"))]
fn raw_label_name() {}

trait Store {
    fn get(&self, key: u32) -> Option<u32>;
}

struct Memory;

impl Store for Memory {
    #[mvi::observe]
    fn get(&self, key: u32) -> Option<u32> {
        Some(key)
    }
}

struct Cart {
    items: Vec<u32>,
}

#[mvi::observe]
impl Cart {
    pub fn add(&mut self, item: u32) -> &mut u32 {
        self.items.push(item);
        self.items.last_mut().expect("just pushed")
    }

    #[mvi::observe(skip)]
    pub fn len(&self) -> usize {
        self.items.len()
    }

    #[mvi::observe(concurrency)]
    pub async fn checkout(&self) -> Result<usize, String> {
        Ok(self.items.len())
    }

    pub const EMPTY: usize = 0;
}

fn main() {
    let _ = parse_qty("1");
    let _ = lookup(true);
    let _ = evens(4).count();
    let _ = show(1);
    let _ = fetch(1);
    linear_buckets();
    array_buckets();
    place();
    let _ = in_flight();
    let _ = labelled("eu", &String::from("ann"));
    unusual_but_valid_names();
    raw_label_name();
    let _ = capped(String::from("acme"));
    let _ = generic_label("k", &true);
    let _ = Memory.get(1);
    let mut cart = Cart { items: Vec::new() };
    *cart.add(1) += 1;
    let _ = cart.len() + Cart::EMPTY;
    let _ = cart.checkout();
}
