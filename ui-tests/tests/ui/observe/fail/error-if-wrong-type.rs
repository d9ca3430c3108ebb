#[mvi::observe(error_if = Option::is_none)]
fn handle() -> u32 {
    1
}

fn main() {}
