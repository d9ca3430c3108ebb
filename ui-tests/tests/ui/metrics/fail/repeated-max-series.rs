mvi::metrics! {
    /// Coupons redeemed.
    counter(max_series = 10, max_series = 20) COUPONS: "shop_coupons_total" { code: String };
}

fn main() {}
