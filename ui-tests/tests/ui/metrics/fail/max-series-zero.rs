mvi::metrics! {
    /// Coupons redeemed.
    counter(max_series = 0) COUPONS: "shop_coupons_total" { code: String };
}

fn main() {}
