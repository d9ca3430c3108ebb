// A mistake in the body is reported at the body, as if the attribute were not there.
#[mvi::observe]
fn total(prices: &[u32]) -> u64 {
    prices.iter().sum::<u32>()
}

#[mvi::observe]
async fn fetch() -> Result<u32, String> {
    let n: u32 = "7".parse()?;
    Ok(n)
}

fn main() {}
