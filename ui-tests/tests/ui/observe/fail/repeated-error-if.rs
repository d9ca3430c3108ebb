#[mvi::observe(error_if = Option::is_none, error_if = Option::is_some)]
fn handle() -> Option<u8> {
    None
}

fn main() {}
