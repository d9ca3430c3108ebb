struct Order {
    weight: f64,
}

// A value that is not an argument is checked where it is written.
#[mvi::observe(labels(weight = order.weight))]
fn ship(order: &Order) -> f64 {
    order.weight
}

fn main() {}
