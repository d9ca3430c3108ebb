#[mvi::observe(counter, counter)]
fn a() {}

#[mvi::observe(histogram, histogram(buckets = [0.1, 1.0]))]
fn b() {}

#[mvi::observe(concurrency, concurrency)]
fn c() {}

#[mvi::observe(labels(region = "eu"), labels(tier = "gold"))]
fn d() {}

#[mvi::observe(error_if = Option::is_none, error_if = Option::is_some)]
fn e() -> Option<u8> {
    None
}

#[mvi::observe(crate = mvi, crate = mvi)]
fn f() {}

#[mvi::observe(skip, skip)]
fn g() {}

fn main() {}
