#![deny(warnings)]

use mvi::{LabelValue, Labels};

#[derive(mvi::LabelValue, Clone, Copy)]
enum Region {
    EuWest,
    #[label(rename = "us")]
    UsEast,
}

#[derive(mvi::Labels)]
struct OrderLabels {
    region: Region,
    #[label(name = "express_shipping")]
    express: bool,
    customer: String,
}

#[mvi::observe(labels = labels)]
fn place(labels: &OrderLabels) -> bool {
    labels.express
}

fn main() {
    assert_eq!(Region::VALUES, Some(&["eu_west", "us"][..]));
    assert_eq!(&*Region::UsEast.label_value(), "us");
    assert_eq!(OrderLabels::NAMES, ["region", "express_shipping", "customer"]);
    let labels = OrderLabels { region: Region::EuWest, express: true, customer: "c".into() };
    assert!(place(&labels));
}
