//! The request path the HTTP benchmark and the instruction counts share: `GET /orders/{id}` with a
//! `traceparent`, through an axum `Router` by `tower::ServiceExt::oneshot`, to a bare handler or the
//! same one under `#[mvi::traced_handler]`.

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::routing::get;
use tower::ServiceExt as _;

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

async fn bare(Path(id): Path<u32>) -> String {
    format!("order {id}")
}

#[mvi::traced_handler]
async fn traced(Path(id): Path<u32>) -> String {
    format!("order {id}")
}

/// The router of the bare handler.
pub(crate) fn bare_router() -> Router {
    Router::new().route("/orders/{id}", get(bare))
}

/// The router of the traced handler.
pub(crate) fn traced_router() -> Router {
    Router::new().route("/orders/{id}", get(traced))
}

/// Serves one request and reads the whole response body; its length.
pub(crate) async fn serve(router: &Router) -> usize {
    let request = http::Request::get("/orders/42")
        .header("traceparent", TRACEPARENT)
        .body(Body::empty())
        .expect("request");
    let response = router.clone().oneshot(request).await.expect("infallible");
    assert!(response.status().is_success());
    axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body")
        .len()
}
