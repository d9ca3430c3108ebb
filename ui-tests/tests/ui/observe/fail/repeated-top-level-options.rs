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

#[mvi::observe(labels(user = user), max_series = 10, max_series = 20)]
fn h(user: String) {
    let _ = user;
}

fn main() {}
