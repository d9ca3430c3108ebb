//! Runnable examples of mvi. `demo` (in `src/bin/demo.rs`) is the README's main job.

/// `docs/migrating-from-autometrics.md`, whose code blocks run as this crate's doctests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/migrating-from-autometrics.md")]
mod migrating_from_autometrics {}

/// `docs/migrating-from-metrics.md`, whose code blocks run as this crate's doctests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/migrating-from-metrics.md")]
mod migrating_from_metrics {}

pub mod shop {
    //! The demo's business logic over SQLite, observed with `#[mvi::observe]`, and the shop's business
    //! metrics, declared with `mvi::metrics!`.

    use std::fmt;
    use std::sync::{Arc, Mutex};

    use rusqlite::{Connection, OptionalExtension, params};
    use serde::{Deserialize, Serialize};

    /// Where an order ships; a closed set, so its label series exist from the first scrape.
    #[derive(mvi::LabelValue, Clone, Copy, Debug, Deserialize, Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Region {
        /// Europe.
        Eu,
        /// The Americas.
        Us,
        /// Asia-Pacific.
        Apac,
    }

    mvi::metrics! {
        /// Items sold, by region.
        pub counter ITEMS_SOLD: "shop_items_sold_total" { region: Region };
        /// Items in stock, per product: read from the database at each scrape.
        pub gauge(callback) STOCK: "shop_stock_items" { product: String };
        /// Value of each order placed, in euros, by region.
        pub histogram(unit = "euros", buckets = exponential(5, 2, 8)) ORDER_VALUE: "shop_order_value_euros" { region: Region };
    }

    /// An order to place.
    #[derive(Debug, Deserialize)]
    pub struct NewOrder {
        /// Which product.
        pub product_id: i64,
        /// How many.
        pub quantity: i64,
        /// Where to.
        pub region: Region,
    }

    /// A placed order.
    #[derive(Debug, Serialize)]
    pub struct Order {
        /// Its id.
        pub id: i64,
        /// Which product.
        pub product_id: i64,
        /// How many.
        pub quantity: i64,
        /// Where to.
        pub region: Region,
    }

    /// What can go wrong.
    #[derive(Debug)]
    pub enum ShopError {
        /// No such product or order.
        NotFound,
        /// Not enough stock.
        OutOfStock,
        /// A quantity below 1.
        InvalidQuantity,
        /// SQLite failed.
        Db(String),
    }

    impl fmt::Display for ShopError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                ShopError::NotFound => f.write_str("not found"),
                ShopError::OutOfStock => f.write_str("out of stock"),
                ShopError::InvalidQuantity => f.write_str("a quantity is 1 or more"),
                ShopError::Db(e) => write!(f, "database: {e}"),
            }
        }
    }

    impl std::error::Error for ShopError {}

    impl From<rusqlite::Error> for ShopError {
        fn from(e: rusqlite::Error) -> Self {
            ShopError::Db(e.to_string())
        }
    }

    /// The shop: one SQLite connection (in memory), used from blocking threads.
    #[derive(Clone, Debug)]
    pub struct Shop {
        db: Arc<Mutex<Connection>>,
    }

    impl Shop {
        /// Opens the database and stocks it.
        pub fn open() -> Result<Shop, ShopError> {
            let db = Connection::open_in_memory()?;
            db.execute_batch(
                "CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, stock INTEGER NOT NULL,
                                        price_euros REAL NOT NULL);
                 CREATE TABLE orders (id INTEGER PRIMARY KEY, product_id INTEGER NOT NULL,
                                      quantity INTEGER NOT NULL, region TEXT NOT NULL);
                 INSERT INTO products (name, stock, price_euros)
                     VALUES ('kettle', 40, 34.5), ('teapot', 25, 24.5), ('mug', 100, 8.0), ('cosy', 3, 12.0);",
            )?;
            Ok(Shop {
                db: Arc::new(Mutex::new(db)),
            })
        }

        async fn with_db<T: Send + 'static>(
            &self,
            f: impl FnOnce(&mut Connection) -> Result<T, ShopError> + Send + 'static,
        ) -> Result<T, ShopError> {
            let db = self.db.clone();
            // In the caller's trace: a log line in `f` carries its trace_id.
            mvi::spawn_blocking(move || {
                let mut db = db
                    .lock()
                    .map_err(|_| ShopError::Db("connection lock poisoned".into()))?;
                f(&mut db)
            })
            .await
            .map_err(|e| ShopError::Db(e.to_string()))?
        }

        /// Makes [`STOCK`] read the stock of every product from the database at each scrape.
        pub fn report_stock(&self) {
            let db = self.db.clone();
            STOCK.register(move |report| {
                let Ok(db) = db.lock() else { return };
                let Ok(mut stmt) = db.prepare_cached("SELECT name, stock FROM products") else {
                    return;
                };
                let rows =
                    stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)));
                for (product, stock) in rows.into_iter().flatten().flatten() {
                    report(stock as f64, &product);
                }
            });
        }

        /// The readiness check: a real query.
        pub async fn ping(&self) -> Result<(), ShopError> {
            self.with_db(|db| {
                Ok(db
                    .query_row("SELECT count(*) FROM products", [], |r| r.get::<_, i64>(0))
                    .map(drop)?)
            })
            .await
        }
    }

    // Every method in a child span of the request (`span`), with its own metrics.
    #[mvi::observe(span)]
    impl Shop {
        /// Every product with its stock.
        pub async fn products(&self) -> Result<Vec<(i64, String, i64)>, ShopError> {
            self.with_db(|db| {
                let mut stmt = db.prepare("SELECT id, name, stock FROM products ORDER BY id")?;
                let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await
        }

        /// One order.
        pub async fn order(&self, id: i64) -> Result<Order, ShopError> {
            self.with_db(move |db| {
                db.query_row(
                    "SELECT id, product_id, quantity, region FROM orders WHERE id = ?1",
                    params![id],
                    |r| {
                        let region: String = r.get(3)?;
                        let region = match region.as_str() {
                            "eu" => Region::Eu,
                            "us" => Region::Us,
                            _ => Region::Apac,
                        };
                        Ok(Order {
                            id: r.get(0)?,
                            product_id: r.get(1)?,
                            quantity: r.get(2)?,
                            region,
                        })
                    },
                )
                .optional()?
                .ok_or(ShopError::NotFound)
            })
            .await
        }

        /// Places an order if there is stock; counted by region in `shop_orders_total`, its items in
        /// [`ITEMS_SOLD`] and its value in [`ORDER_VALUE`].
        #[mvi::observe(
            counter(name = "shop_orders_total", help = "Orders placed, by region and result."),
            histogram(name = "shop_order_duration_seconds", buckets = exponential(0.0001, 4, 8)),
            labels(region = order.region)
        )]
        pub async fn place(&self, order: NewOrder) -> Result<Order, ShopError> {
            let NewOrder {
                product_id,
                quantity,
                region,
            } = order;
            let items = u64::try_from(quantity)
                .ok()
                .filter(|n| *n > 0)
                .ok_or(ShopError::InvalidQuantity)?;
            self.with_db(move |db| {
                let tx = db.transaction()?;
                let product: Option<(i64, f64)> = tx
                    .query_row(
                        "SELECT stock, price_euros FROM products WHERE id = ?1",
                        params![product_id],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?;
                let (stock, price) = product.ok_or(ShopError::NotFound)?;
                if stock < quantity {
                    return Err(ShopError::OutOfStock);
                }
                tx.execute(
                    "UPDATE products SET stock = stock - ?1 WHERE id = ?2",
                    params![quantity, product_id],
                )?;
                let region_name = match region {
                    Region::Eu => "eu",
                    Region::Us => "us",
                    Region::Apac => "apac",
                };
                tx.execute(
                    "INSERT INTO orders (product_id, quantity, region) VALUES (?1, ?2, ?3)",
                    params![product_id, quantity, region_name],
                )?;
                let id = tx.last_insert_rowid();
                tx.commit()?;
                ITEMS_SOLD.add(items, region);
                ORDER_VALUE.record(price * quantity as f64, region);
                Ok(Order {
                    id,
                    product_id,
                    quantity,
                    region,
                })
            })
            .await
        }
    }
}

pub mod payments {
    //! The client of the payments service: reqwest through mvi's middleware, so each charge is a
    //! client span, carries `traceparent` to the payments service, and is counted in
    //! `http_client_requests_total`.

    use std::fmt;
    use std::time::Duration;

    use reqwest_middleware::ClientWithMiddleware;
    use serde::{Deserialize, Serialize};

    /// What the payments service is asked to charge.
    #[derive(Debug, Deserialize, Serialize)]
    pub struct Charge {
        /// The order paid for.
        pub order_id: i64,
        /// How much, in cents.
        pub cents: i64,
    }

    /// What it answers.
    #[derive(Debug, Deserialize, Serialize)]
    pub struct Receipt {
        /// The order paid for.
        pub order_id: i64,
        /// How much was charged, in cents.
        pub cents: i64,
    }

    /// A charge that did not go through.
    #[derive(Debug)]
    pub enum PaymentError {
        /// The call failed: no answer, or an answer that is not a receipt.
        Call(reqwest_middleware::Error),
        /// The service answered with an error status.
        Status(u16),
    }

    impl fmt::Display for PaymentError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                PaymentError::Call(e) => write!(f, "payments call failed: {e}"),
                PaymentError::Status(s) => write!(f, "payments answered {s}"),
            }
        }
    }

    impl std::error::Error for PaymentError {}

    impl From<reqwest_middleware::Error> for PaymentError {
        fn from(e: reqwest_middleware::Error) -> Self {
            PaymentError::Call(e)
        }
    }

    impl From<reqwest::Error> for PaymentError {
        fn from(e: reqwest::Error) -> Self {
            PaymentError::Call(e.into())
        }
    }

    /// The payments service at `base` (`POST {base}/charge`).
    #[derive(Clone, Debug)]
    pub struct Payments {
        client: ClientWithMiddleware,
        base: String,
    }

    impl Payments {
        /// A client of the service at `base`, with mvi's middleware.
        pub fn new(base: impl Into<String>) -> Payments {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap_or_default();
            Payments {
                client: reqwest_middleware::ClientBuilder::new(client)
                    .with(mvi::client::Middleware::new())
                    .build(),
                base: base.into().trim_end_matches('/').to_string(),
            }
        }

        /// Where the service is.
        pub fn base(&self) -> &str {
            &self.base
        }
    }

    #[mvi::observe(span)]
    impl Payments {
        /// Charges an order.
        pub async fn charge(&self, order_id: i64, cents: i64) -> Result<Receipt, PaymentError> {
            let response = self
                .client
                .post(format!("{}/charge", self.base))
                .json(&Charge { order_id, cents })
                .send()
                .await?;
            if !response.status().is_success() {
                return Err(PaymentError::Status(response.status().as_u16()));
            }
            Ok(response.json().await?)
        }
    }
}
