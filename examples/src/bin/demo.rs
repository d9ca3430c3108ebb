//! A small shop: axum handlers with `#[mvi::traced_handler]`, business logic with `#[mvi::observe]`,
//! business metrics with `mvi::metrics!` (items sold, stock read at each scrape, order value), SQLite as
//! the dependency its readiness check really queries.
//!
//! `cargo run -p mvi-examples --bin demo` serves the shop on 127.0.0.1:8080 (`DEMO_ADDR`) and the admin
//! endpoints on 127.0.0.1:9464 (`MVI_ADMIN_ADDR`; the demo binds loopback, where the library's default
//! is every interface). SIGTERM or Ctrl-C stops it gracefully, after `MVI_SHUTDOWN_DELAY`. It writes an
//! access line per request unless `DEMO_ACCESS_LOG=off`, within `MVI_LOG_RATE_LIMIT` lines a second
//! (default 1,000). `--selftest` drives traffic at itself, prints a
//! `/metrics` excerpt, the `/healthz` body and a log line, and exits 0 when all is as expected.
//! `--catalog` prints the metric contract (every metric the code declares) as JSON and exits.
//!
//! `POST /orders` charges each order at a payments service, `POST {DEMO_PAYMENTS_URL}/charge`, through
//! mvi's reqwest middleware: the trace goes on there. Without `DEMO_PAYMENTS_URL` the demo serves the
//! payments route itself on a port of its own (a `#[traced_handler]` too), called over real HTTP and
//! served until the shop has drained.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use mvi_examples::payments::{Charge, Payments, Receipt};
use mvi_examples::shop::{NewOrder, Order, Shop, ShopError};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// What the handlers share.
#[derive(Clone)]
struct App {
    shop: Shop,
    payments: Payments,
}

impl FromRef<App> for Shop {
    fn from_ref(app: &App) -> Shop {
        app.shop.clone()
    }
}

impl FromRef<App> for Payments {
    fn from_ref(app: &App) -> Payments {
        app.payments.clone()
    }
}

#[mvi::traced_handler]
async fn list_products(State(shop): State<Shop>) -> Result<Json<serde_json::Value>, StatusCode> {
    let products = shop
        .products()
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(Json(serde_json::json!(products)))
}

#[mvi::traced_handler]
async fn show_order(
    State(shop): State<Shop>,
    Path(id): Path<i64>,
) -> Result<Json<Order>, StatusCode> {
    match shop.order(id).await {
        Ok(order) => Ok(Json(order)),
        Err(ShopError::NotFound) => Err(StatusCode::NOT_FOUND),
        Err(_) => Err(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

#[mvi::traced_handler]
async fn place_order(
    State(shop): State<Shop>,
    State(payments): State<Payments>,
    Json(order): Json<NewOrder>,
) -> Result<(StatusCode, Json<Order>), StatusCode> {
    tracing::info!(
        product_id = order.product_id,
        quantity = order.quantity,
        "placing order"
    );
    let order = match shop.place(order).await {
        Ok(order) => order,
        Err(ShopError::NotFound) => return Err(StatusCode::NOT_FOUND),
        Err(ShopError::OutOfStock) => return Err(StatusCode::CONFLICT),
        Err(ShopError::InvalidQuantity) => return Err(StatusCode::UNPROCESSABLE_ENTITY),
        Err(_) => return Err(StatusCode::INTERNAL_SERVER_ERROR),
    };
    // The next hop: the payments service continues this trace.
    match payments.charge(order.id, order.quantity * 250).await {
        Ok(_) => Ok((StatusCode::CREATED, Json(order))),
        Err(e) => {
            tracing::warn!(error = %e, order_id = order.id, "charge failed");
            Err(StatusCode::BAD_GATEWAY)
        }
    }
}

/// The payments service's one route.
#[mvi::traced_handler]
async fn charge(Json(charge): Json<Charge>) -> Json<Receipt> {
    tracing::info!(order_id = charge.order_id, cents = charge.cents, "charging");
    Json(Receipt {
        order_id: charge.order_id,
        cents: charge.cents,
    })
}

/// Answers after `ms` milliseconds (at most 10 s): a stand-in for a slow dependency, to watch a
/// graceful shutdown let a request finish.
#[mvi::traced_handler]
async fn slow(Path(ms): Path<u64>) -> String {
    tokio::time::sleep(Duration::from_millis(ms.min(10_000))).await;
    format!("answered after {ms} ms\n")
}

fn app(shop: Shop, payments: Payments) -> Router {
    Router::new()
        .route("/products", get(list_products))
        .route("/slow/{ms}", get(slow))
        .route("/orders", post(place_order))
        .route("/orders/{id}", get(show_order))
        .with_state(App { shop, payments })
}

/// The payments service this process serves itself when `DEMO_PAYMENTS_URL` is unset.
struct OwnPayments {
    stop: oneshot::Sender<()>,
    server: JoinHandle<std::io::Result<()>>,
}

impl OwnPayments {
    /// `DEMO_PAYMENTS_URL`, else the payments route served here on a free loopback port.
    async fn start() -> std::io::Result<(Payments, Option<OwnPayments>)> {
        if let Some(url) = std::env::var("DEMO_PAYMENTS_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
        {
            return Ok((Payments::new(url), None));
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = oneshot::channel::<()>();
        let router = Router::new().route("/charge", post(charge));
        let server = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
        });
        Ok((Payments::new(base), Some(OwnPayments { stop, server })))
    }

    /// Stops serving, once the shop no longer calls it.
    async fn stop(own: Option<OwnPayments>) -> std::io::Result<()> {
        let Some(own) = own else { return Ok(()) };
        let _ = own.stop.send(());
        own.server.await.map_err(std::io::Error::other)?
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo: {e}");
            let in_use = matches!(
                e.downcast_ref::<mvi::Error>(),
                Some(mvi::Error::Bind { .. })
            ) || e
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::AddrInUse);
            if in_use {
                eprintln!(
                    "demo: set DEMO_ADDR and MVI_ADMIN_ADDR to use other ports, e.g. 127.0.0.1:0"
                );
            }
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::args().any(|a| a == "--selftest") {
        return selftest().await;
    }
    if std::env::args().any(|a| a == "--catalog") {
        println!("{}", mvi::catalog().to_json());
        return Ok(());
    }
    let shop = Shop::open()?;
    let check = shop.clone();
    let telemetry = mvi::Telemetry::builder()
        .service_name("shop")
        .service_version(env!("CARGO_PKG_VERSION"))
        .admin_addr(std::env::var("MVI_ADMIN_ADDR").unwrap_or_else(|_| "127.0.0.1:9464".into()))
        .access_log(std::env::var("DEMO_ACCESS_LOG").map_or(true, |v| v != "off"))
        .readiness_check("sqlite", move || {
            let shop = check.clone();
            async move { shop.ping().await }
        })
        .install()?;
    shop.report_stock();
    let addr = std::env::var("DEMO_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".into());
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))?;
    let admin = telemetry
        .admin_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let (payments, own_payments) = OwnPayments::start().await?;
    let app_addr = listener.local_addr()?;
    // Listening for SIGTERM and SIGINT before saying the shop is up, so a signal sent as soon as the
    // banner is read is heard: polled once, the future has registered its handlers.
    let mut stop_signal = std::pin::pin!(mvi::shutdown_signal());
    std::future::poll_fn(|cx| {
        let _ = stop_signal.as_mut().poll(cx);
        std::task::Poll::Ready(())
    })
    .await;
    eprintln!("shop listening on http://{app_addr}; try:");
    eprintln!("  curl http://{app_addr}/products");
    eprintln!(
        "  curl -X POST http://{app_addr}/orders -H 'content-type: application/json' -d '{{\"product_id\":1,\"quantity\":2,\"region\":\"eu\"}}'"
    );
    eprintln!(
        "  curl -i http://{app_addr}/orders/1 -H 'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'"
    );
    eprintln!(
        "  curl http://{admin}/metrics   curl http://{admin}/healthz   curl http://{admin}/readyz   curl http://{admin}/livez"
    );
    eprintln!(
        "orders are charged at {}/charge ({})",
        payments.base(),
        if own_payments.is_some() {
            "served by the demo itself; set DEMO_PAYMENTS_URL for another service"
        } else {
            "DEMO_PAYMENTS_URL"
        }
    );
    eprintln!(
        "JSON logs follow on stdout; Ctrl-C or SIGTERM stops (gracefully; a second one at once)."
    );
    let stopping = telemetry.stopping();
    let server = tokio::spawn(async move {
        axum::serve(listener, app(shop, payments))
            .with_graceful_shutdown(stopping)
            .await
    });
    stop_signal.await;
    telemetry.shutdown().await;
    server.await??;
    OwnPayments::stop(own_payments).await?;
    Ok(())
}

/// Starts the shop on free ports, drives traffic at it, and prints what an operator would look at.
async fn selftest() -> Result<(), Box<dyn std::error::Error>> {
    let started = std::time::Instant::now();
    let shop = Shop::open()?;
    let check = shop.clone();
    let logs = Arc::new(Mutex::new(Vec::<u8>::new()));
    let telemetry = mvi::Telemetry::builder()
        .service_name("shop")
        .service_version(env!("CARGO_PKG_VERSION"))
        .admin_addr("127.0.0.1:0")
        .log_output(mvi::LogOutput::Writer(logs.clone()))
        .readiness_check("sqlite", move || {
            let shop = check.clone();
            async move { shop.ping().await }
        })
        .install()?;
    shop.report_stock();
    let admin: SocketAddr = telemetry.admin_addr().ok_or("no admin address")?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (payments, own_payments) = OwnPayments::start().await?;
    let stopping = telemetry.stopping();
    let server = tokio::spawn(async move {
        axum::serve(listener, app(shop, payments))
            .with_graceful_shutdown(stopping)
            .await
    });

    let client = reqwest::Client::new();
    let first_health = client
        .get(format!("http://{admin}/healthz"))
        .send()
        .await?
        .status();
    let ready_after = started.elapsed();
    let mut statuses = std::collections::BTreeMap::<u16, u32>::new();
    for i in 0..60u32 {
        let region = ["eu", "us", "apac"][(i % 3) as usize];
        let order =
            serde_json::json!({ "product_id": 1 + i % 4, "quantity": 1 + i % 3, "region": region });
        let r = client
            .post(format!("{base}/orders"))
            .json(&order)
            .send()
            .await?;
        *statuses.entry(r.status().as_u16()).or_default() += 1;
        let r = client
            .get(format!("{base}/orders/{}", 1 + i % 70))
            .send()
            .await?;
        *statuses.entry(r.status().as_u16()).or_default() += 1;
    }
    // One request continuing a caller's trace: its response header and its log line share the trace id,
    // and (a bucket keeps one exemplar per 100 ms, so after a pause) its metrics' exemplars too.
    tokio::time::sleep(Duration::from_millis(110)).await;
    let traced = client
        .post(format!("{base}/orders"))
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .header("x-request-id", "selftest-1")
        .json(&serde_json::json!({ "product_id": 3, "quantity": 1, "region": "eu" }))
        .send()
        .await?;
    *statuses.entry(traced.status().as_u16()).or_default() += 1;
    let traceparent = traced
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();

    let metrics = client
        .get(format!("http://{admin}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    let openmetrics = client
        .get(format!("http://{admin}/metrics"))
        .header("accept", "application/openmetrics-text;version=1.0.0")
        .send()
        .await?
        .text()
        .await?;
    let health = client.get(format!("http://{admin}/healthz")).send().await?;
    let health_status = health.status();
    let health_body = health.text().await?;
    telemetry.shutdown().await;
    server.await??;
    OwnPayments::stop(own_payments).await?;

    println!(
        "selftest: {} requests, statuses {statuses:?}",
        statuses.values().sum::<u32>()
    );
    println!(
        "first /healthz {first_health} after {:.1} ms",
        ready_after.as_secs_f64() * 1e3
    );
    println!("response traceparent: {traceparent}");
    println!("\n--- /metrics (excerpt) ---");
    let wanted = [
        "# TYPE http_requests_total",
        "http_requests_total{method=\"POST\"",
        "# TYPE http_client_requests_total",
        "http_client_requests_total{",
        "http_client_request_duration_seconds_count{",
        "http_request_duration_seconds_bucket{method=\"GET\",route=\"/orders/{id}\",status=\"200\",le=\"0.005\"}",
        "http_request_duration_seconds_count{method=\"GET\",route=\"/orders/{id}\",status=\"200\"}",
        "# TYPE shop_orders_total",
        "shop_orders_total{",
        "function_calls_total{function=\"Shop::order\"",
        "shop_order_duration_seconds_count",
        "# TYPE shop_items_sold_total",
        "shop_items_sold_total{",
        "# TYPE shop_stock_items",
        "shop_stock_items{",
        "# TYPE shop_order_value_euros",
        "shop_order_value_euros_bucket{region=\"eu\",le=\"40\"}",
        "shop_order_value_euros_sum",
        "shop_order_value_euros_count",
        "mvi_health_check_up",
        "mvi_build_info",
        "tokio_alive_tasks",
        "process_resident_memory_bytes",
    ];
    for line in metrics
        .lines()
        .filter(|l| wanted.iter().any(|w| l.starts_with(w)))
    {
        println!("{line}");
    }
    // The OpenMetrics scrape: the traced request's exemplars, the trace id of its `traceparent`.
    let trace_id = traceparent.split('-').nth(1).unwrap_or("-");
    println!("\n--- /metrics as OpenMetrics (the traced request's exemplars) ---");
    let families = ["http_request", "shop_order"];
    let exemplars: Vec<&str> = openmetrics
        .lines()
        .filter(|l| {
            let family = |f: &&str| {
                l.starts_with(f)
                    || l.strip_prefix("# TYPE ")
                        .or_else(|| l.strip_prefix("# UNIT "))
                        .is_some_and(|rest| rest.starts_with(f))
            };
            families.iter().any(family) && (l.starts_with('#') || l.contains(trace_id))
        })
        .collect();
    for line in &exemplars {
        println!("{line}");
    }
    println!("\n--- /healthz ({health_status}) ---\n{health_body}");
    let text = String::from_utf8(logs.lock().map_err(|_| "log buffer")?.clone())?;
    // The log lines written while serving the traced request, at both hops: the trace id of its
    // `traceparent`, in the shop's line and in the payments service's.
    let hop = |msg: &str| {
        text.lines()
            .find(|l| l.contains(msg) && l.contains(trace_id))
            .unwrap_or_default()
            .to_string()
    };
    let (orders_line, payments_line) = (hop("\"placing order\""), hop("\"charging\""));
    println!("\n--- the log lines of the traced request: the shop, then the payments service ---");
    println!("{orders_line}\n{payments_line}");
    let field = |line: &str, key: &str| {
        serde_json::from_str::<serde_json::Value>(line)
            .ok()
            .and_then(|v| v[key].as_str().map(str::to_string))
            .unwrap_or_default()
    };
    let ids = [
        field(&orders_line, "trace_id"),
        field(&payments_line, "trace_id"),
        trace_id.to_string(),
    ];
    let one_trace = ids.iter().all(|id| id.len() == 32 && *id == ids[0]);
    println!(
        "\none trace across both hops: {} (shop log, payments log, response traceparent){}",
        ids[0],
        if one_trace { "" } else { " -- MISMATCH" }
    );

    let ok = first_health.is_success()
        && health_status.is_success()
        && traceparent.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-")
        && metrics.contains("shop_orders_total{")
        && metrics.contains("shop_items_sold_total{region=\"eu\"}")
        && metrics.contains("shop_stock_items{product=\"kettle\"}")
        && metrics.contains("shop_order_value_euros_count{region=\"eu\"}")
        && exemplars.iter().any(|l| l.contains(" # {trace_id="))
        && openmetrics.ends_with("# EOF\n")
        && metrics.contains("http_client_requests_total{")
        && one_trace;
    if !ok {
        return Err("selftest: something is missing above".into());
    }
    println!("\nselftest ok");
    // Keep the runtime's shutdown quick even if a connection lingers.
    tokio::time::sleep(Duration::from_millis(1)).await;
    Ok(())
}
