#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]
#![warn(missing_docs)]

// The crate, one module a responsibility:
//
// | module | holds |
// |---|---|
// | `builder`, `install`, `telemetry`, `error` | configuration and its checks; `install()` in named steps; the handle and its ordered shutdown; the error |
// | `admin`, `health` | the admin routes and server; the health checks behind `/healthz` and `/readyz` |
// | `series` | the one series store every call site records into, the per-metric cap, the exposition |
// | `catalog`, `contract`, `label` | the link-time collection of declared metrics; the committed contract tests check it against; label values and label sets |
// | `site`, `http`, `declared` | what `#[observe]`, `#[traced_handler]` and `metrics!` call at run time |
// | `logging`, `otel`, `trace_context`, `context` | JSON logs, their sampling and budget, the writer thread; OpenTelemetry export (feature `otlp`); W3C trace context; the context code runs in |
// | `span`, `propagation`, `client`, `task` | `#[observe(span)]`'s child spans; the context into and out of any carrier; outgoing HTTP calls (reqwest middleware, tower layer); spawning in the current context |
// | `global`, `signal` | process-wide state in one place; the stop signals |
// | `__private` | what generated code calls; not a stable API |
mod admin;
mod builder;
mod catalog;
pub mod client;
pub mod context;
pub mod contract;
mod declared;
mod error;
mod global;
mod health;
mod http;
mod install;
mod label;
mod logging;
mod otel;
pub mod propagation;
mod series;
mod signal;
mod site;
mod span;
mod task;
mod telemetry;
mod text;
pub mod trace_context;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use admin::{OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE};
pub use builder::{COMMIT_ENV_VARS, DEFAULT_ADMIN_ADDR, TelemetryBuilder};
pub use catalog::{
    Catalog, CatalogEntry, Conflict, Declaration, Location, MetricDecl, MetricKind, catalog,
};
pub use error::Error;
pub use health::{CheckResult, HealthReport};
pub use label::{LabelStr, LabelValue, Labels};
pub use logging::{DEFAULT_FILTER as DEFAULT_LOG_FILTER, LogOutput};
pub use series::{DEFAULT_BUCKETS, ExpositionFormat, OVERFLOW_VALUE};
pub use signal::shutdown_signal;
pub use site::Outcome;
pub use task::{spawn, spawn_blocking};
pub use telemetry::Telemetry;

/// Records calls of a function, a method, or every method of an `impl` block.
///
/// | form | records |
/// |---|---|
/// | `#[observe]` | `function_calls_total{function,module,result}` and `function_calls_duration_seconds{function,module}` |
/// | `#[observe(counter, histogram(buckets = exponential(0.01, 2, 8)))]` | the listed metrics only |
/// | `#[observe(histogram(buckets = linear(0.05, 0.05, 10)))]`, `buckets = [0.1, 0.5]` | bucket layouts, checked at compile time |
/// | `#[observe(counter(name = "orders_placed_total", help = "..."))]` | a metric of its own name |
/// | `#[observe(concurrency)]` | `function_calls_concurrent{function,module}`, calls in flight |
/// | `#[observe(labels(region = order.region))]` | extra labels, read from the arguments (string literals are static) |
/// | `#[observe(labels = arg)]` | the labels of an argument whose type derives [`Labels`] |
/// | `#[observe(error_if = Option::is_none)]` | `result="error"` where the predicate holds |
/// | `#[observe(span)]` | each call in a child span of the current context (or a new trace), with `code.*` attributes and error status |
/// | `#[observe(span(parent = mvi::propagation::extract_from(&msg.headers)))]` | the span's parent from a message (a new trace when it has none) |
/// | `#[observe(skip)]` | on a method of an observed `impl`: leave it alone |
/// | `#[observe(crate = "path")]` | where the `mvi` crate is, when renamed |
///
/// `result` is `ok` or `error` (from `Result`, or `error_if`); a panic is `error`; an `async fn` whose
/// future is dropped before it finishes is `cancelled`.
///
/// # Examples
///
/// ```standalone_crate
/// #[derive(mvi::LabelValue, Clone, Copy)]
/// enum Region { Eu, Us }
///
/// #[mvi::observe]
/// fn parse_quantity(s: &str) -> Result<u32, std::num::ParseIntError> {
///     s.parse()
/// }
///
/// #[mvi::observe(counter(name = "payments_total"), histogram(buckets = [0.01, 0.1, 1.0]), labels(region = region))]
/// async fn charge(region: Region, cents: u64) -> Result<u64, String> {
///     if cents == 0 { Err("nothing to charge".into()) } else { Ok(cents) }
/// }
///
/// struct Cart(Vec<u32>);
///
/// #[mvi::observe] // every method: `function="Cart::add"`, ...
/// impl Cart {
///     fn add(&mut self, item: u32) {
///         self.0.push(item);
///     }
///
///     #[mvi::observe(skip)]
///     fn len(&self) -> usize {
///         self.0.len()
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let telemetry = mvi::Telemetry::builder().without_admin_server().without_logs().install().unwrap();
/// parse_quantity("3").unwrap();
/// charge(Region::Eu, 250).await.unwrap();
/// charge(Region::Us, 0).await.unwrap_err();
/// let mut cart = Cart(Vec::new());
/// cart.add(7);
/// assert_eq!(cart.len(), 1);
///
/// let scrape = telemetry.render();
/// assert!(scrape.contains(r#"function_calls_total{function="parse_quantity",module="rust_out",result="ok"} 1"#));
/// assert!(scrape.contains(r#"payments_total{function="charge",module="rust_out",result="error",region="us"} 1"#));
/// assert!(scrape.contains(r#"function_calls_total{function="Cart::add",module="rust_out",result="ok"} 1"#));
/// # }
/// ```
pub use mvi_macros::observe;

/// Traces an axum 0.8 handler (an `async fn`).
///
/// - continues the caller's W3C `traceparent`/`tracestate` (strictly validated; anything invalid starts a
///   new trace) and opens a server span named `"{method} {route}"` with the OpenTelemetry HTTP fields
///   (`http.request.method`, `http.route`, `http.response.status_code`, `error.type`) and `trace_id`,
///   `span_id`, `request_id`, so every log line inside the handler carries them;
/// - records `http_requests_total{method,route,status}` and
///   `http_request_duration_seconds{method,route,status}` (route is the template, never the raw path;
///   unknown methods are `_OTHER`);
/// - adds `traceparent` and `x-request-id` to the response; a panic answers 500 and is logged.
///
/// Options: `buckets = exponential(..) | linear(..) | [..]` and `name = "..._seconds"` (the duration
/// histogram's name). Each route's series keep the buckets of the handler that first served it.
///
/// The handler gains a first argument (an extractor of the request's head), each extractor is wrapped
/// so that its rejection is answered and recorded by the handler, and it becomes a plain `fn` that
/// returns the future of its response; route it as usual. Requests that an extractor rejects are
/// traced and counted like any other. Its return type must be a response (`IntoResponse`), as for any
/// axum handler: the compiler says so on the return type otherwise.
///
/// # Examples
///
/// ```no_run
/// use axum::{Json, Router, extract::Path, http::StatusCode, routing::get};
///
/// #[mvi::traced_handler]
/// async fn show_order(Path(id): Path<u32>) -> Result<Json<u32>, StatusCode> {
///     tracing::info!(id, "loading"); // carries trace_id, span_id and request_id
///     if id == 0 { Err(StatusCode::NOT_FOUND) } else { Ok(Json(id)) }
/// }
///
/// #[mvi::traced_handler(buckets = [0.1, 1.0, 10.0])]
/// async fn export() -> &'static str {
///     "done"
/// }
///
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let telemetry = mvi::Telemetry::builder().install()?;
/// let app: Router = Router::new()
///     .route("/orders/{id}", get(show_order)) // http_requests_total{method="GET",route="/orders/{id}",status}
///     .route("/export", get(export));
/// let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
/// axum::serve(listener, app).with_graceful_shutdown(telemetry.stopping()).await?;
/// # Ok(())
/// # }
/// ```
pub use mvi_macros::traced_handler;

/// Declares metrics that are not calls of a function, once, checked at compile time: counters
/// incremented by any amount, gauges set or read at each scrape, histograms of any value.
///
/// ```
/// #[derive(mvi::LabelValue, Clone, Copy)]
/// enum Region { Eu, Us }
///
/// mvi::metrics! {
///     /// Items sold, by region.
///     pub counter ITEMS_SOLD: "shop_items_sold_total" { region: Region };
///     /// Orders waiting to be shipped.
///     pub gauge BACKLOG: "shop_backlog_orders";
///     /// Items in stock, per product: read from the warehouse at each scrape.
///     pub gauge(callback) STOCK: "shop_stock_items" { product: String };
///     /// Value of each order placed, in euros.
///     pub histogram(unit = "euros", buckets = exponential(5, 2, 8)) ORDER_VALUE: "shop_order_value_euros" { region: Region };
/// }
///
/// ITEMS_SOLD.add(3, Region::Eu);          // a wrong number or type of label values does not compile
/// ITEMS_SOLD.inc(Region::Us);
/// BACKLOG.set(12.0);
/// BACKLOG.dec();
/// ORDER_VALUE.record(104.5, Region::Eu);
/// STOCK.register(|report| {               // called at each scrape
///     for (product, level) in [("kettle", 40), ("mug", 97)] {
///         report(f64::from(level), product);
///     }
/// });
/// ```
///
/// Each declaration is `/// HELP` `visibility kind(options) STATIC: "metric_name" { label: Type, ... };`:
///
/// | kind | options | methods of the static |
/// |---|---|---|
/// | `counter` | `max_series = n`, `unit = "..."` | `inc(labels..)`, `add(n, labels..)` |
/// | `gauge` | `max_series = n`, `unit = "..."` | `set(v, labels..)`, `inc`, `dec`, `add(v, ..)`, `sub(v, ..)` |
/// | `gauge(callback)` | `max_series = n`, `unit = "..."` | `register(\|report\| ..)`, an `FnMut + Send` closure that calls `report(v, labels..)` for each label set, at each scrape; only what it reports is exported |
/// | `histogram` | `buckets = ...` (required unless the name ends in `_seconds`), `max_series = n`, `unit = "..."` | `record(v, labels..)` |
///
/// Each metric is a `static` of a type generated for it (`ITEMS_SOLD: ItemsSoldMetric`), whose methods
/// take the label values in declaration order. The doc comment's first paragraph is the HELP text.
/// Names and labels follow the rules of
/// [`observe`]; labels are any [`LabelValue`] type, and `String` labels are taken as `&str`. The unit is
/// the name's last word when that is a base unit (`seconds`, `bytes`, `meters`, ...), or `unit =
/// "euros"`, which the name must end in. `crate = path;` before the first declaration says where `mvi`
/// is, if you renamed the dependency.
pub use mvi_macros::metrics;

/// Derives [`LabelValue`] for a field-less enum: each variant is a value (snake_case, or
/// `#[label(rename = "...")]`), so the set is closed and known at compile time.
///
/// ```
/// use mvi::LabelValue;
///
/// #[derive(mvi::LabelValue)]
/// enum Tier { Free, Pro, #[label(rename = "enterprise")] Ent }
///
/// assert_eq!(Tier::VALUES, Some(&["free", "pro", "enterprise"][..]));
/// let shown: Vec<String> = [Tier::Free, Tier::Pro, Tier::Ent].iter().map(|t| t.label_value().to_string()).collect();
/// assert_eq!(shown, ["free", "pro", "enterprise"]);
/// ```
pub use mvi_macros::LabelValue;

/// Derives [`Labels`] for a struct with named fields: each field is a label (renamed with
/// `#[label(name = "...")]`) whose type implements [`LabelValue`].
///
/// ```
/// #[derive(mvi::LabelValue)]
/// enum Region { Eu, Us }
///
/// #[derive(mvi::Labels)]
/// struct OrderLabels { region: Region, express: bool }
///
/// #[mvi::observe(labels = labels)]
/// fn ship(labels: &OrderLabels) -> bool { labels.express }
///
/// assert!(ship(&OrderLabels { region: Region::Eu, express: true }));
/// assert!(!ship(&OrderLabels { region: Region::Us, express: false }));
/// ```
pub use mvi_macros::Labels;
