// Every form `mvi::metrics!` takes compiles without a warning, from any module and in a function.
#![deny(warnings, missing_docs, missing_debug_implementations)]
//! A crate of business metrics.

/// Where an order ships.
#[derive(mvi::LabelValue, Clone, Copy, Debug)]
pub enum Region {
    /// Europe.
    Eu,
    /// The Americas.
    Us,
}

mvi::metrics! {
    /// Items sold, by region.
    ///
    /// Only this paragraph's first one is the HELP text.
    pub counter ITEMS_SOLD: "shop_items_sold_total" { region: Region };
    /// Refunds issued, in euros.
    pub counter(unit = "euros") REFUNDED: "shop_refunded_euros_total";
    /// Bytes uploaded, by tenant.
    pub(crate) counter(max_series = 100) UPLOADED: "shop_uploaded_bytes_total" { tenant: String, express: bool };
    /// Orders waiting, by region and warehouse.
    pub gauge BACKLOG: "shop_backlog_orders" { region: Region, warehouse: &str };
    /// Items in stock, per product.
    pub gauge(callback, max_series = 500) STOCK: "shop_stock_items" { product: String };
    /// Orders in the payment queue.
    gauge(callback) PAYMENT_QUEUE: "shop_payment_queue_orders";
    /// Value of each order, in euros.
    pub histogram(unit = "euros", buckets = exponential(1, 2, 10)) ORDER_VALUE: "shop_order_value_euros" { region: Region };
    /// Size of uploads.
    pub histogram(buckets = linear(1024, 1024, 8)) UPLOAD_SIZE: "shop_upload_size_bytes" { status: axum::http::StatusCode };
    /// Time to pack an order.
    pub histogram PACKING: "shop_packing_duration_seconds" { r#type: &'static str };
    /// Cache hits, of lookups.
    #[cfg(not(any()))]
    pub gauge CACHE_HIT: "shop_cache_hit_ratio";
}

mod renamed {
    extern crate mvi as telemetry;

    telemetry::metrics! {
        crate = telemetry;
        /// Jobs run.
        pub counter JOBS: "jobs_total" { queue: u16 };
    }
}

/// Records one of everything.
pub fn record(tenant: &String) {
    ITEMS_SOLD.add(3, Region::Eu);
    ITEMS_SOLD.inc(Region::Us);
    REFUNDED.add(20);
    UPLOADED.add(4096, tenant, false);
    BACKLOG.set(3.0, Region::Eu, "north");
    BACKLOG.inc(Region::Eu, "north");
    BACKLOG.dec(Region::Eu, "north");
    BACKLOG.add(1.5, Region::Us, &String::from("south"));
    BACKLOG.sub(0.5, Region::Us, "south");
    STOCK.register(|report| {
        for (product, level) in [("kettle", 40), ("mug", 97)] {
            report(f64::from(level), product);
        }
    });
    PAYMENT_QUEUE.register(|report| report(4.0));
    ORDER_VALUE.record(104.5, Region::Eu);
    UPLOAD_SIZE.record(2048.0, axum::http::StatusCode::CREATED);
    PACKING.record(0.25, "gift");
    CACHE_HIT.set(0.9);
    renamed::JOBS.inc(7);
    let _: &ItemsSoldMetric = &ITEMS_SOLD;
    let _ = format!("{ITEMS_SOLD:?} {STOCK:?}");
}

fn main() {
    mvi::metrics! {
        /// Inside a function.
        counter LOCAL: "local_calls_total";
    }
    LOCAL.inc();
    record(&String::from("acme"));
}
