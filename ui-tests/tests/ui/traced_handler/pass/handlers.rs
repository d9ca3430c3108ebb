#![deny(warnings)]

use axum::extract::{Json, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;

#[derive(Clone)]
struct AppState;

#[derive(serde::Deserialize)]
struct NewOrder {
    qty: u32,
}

/// Docs stay.
#[mvi::traced_handler]
async fn list() -> &'static str {
    "[]"
}

#[mvi::traced_handler(buckets = exponential(0.001, 2, 12), name = "order_request_duration_seconds")]
async fn show(State(_s): State<AppState>, Path(id): Path<u32>, headers: HeaderMap) -> Result<String, StatusCode> {
    let _ = headers.len();
    if id == 0 { Err(StatusCode::NOT_FOUND) } else { Ok(id.to_string()) }
}

#[mvi::traced_handler]
async fn create(State(_s): State<AppState>, Json(order): Json<NewOrder>) -> impl IntoResponse {
    (StatusCode::CREATED, order.qty.to_string())
}

fn main() {
    let _app: Router = Router::new()
        .route("/orders", get(list).post(create))
        .route("/orders/{id}", get(show))
        .route("/x", post(create))
        .with_state(AppState);
}
