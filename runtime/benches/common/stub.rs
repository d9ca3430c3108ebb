//! The last middleware of the client benchmark's `stubbed` group and of the instruction counts: it
//! answers 200 at once, without I/O, so what comes before it is all that is measured.

use http::Extensions;
use reqwest_middleware::{Middleware, Next};

/// Answers 200 without sending anything.
pub(crate) struct Stub;

// What `#[async_trait]` makes of `async fn handle`, written out.
impl Middleware for Stub {
    fn handle<'life0, 'life1, 'life2, 'async_trait>(
        &'life0 self,
        _request: reqwest::Request,
        _extensions: &'life1 mut Extensions,
        _next: Next<'life2>,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<Output = reqwest_middleware::Result<reqwest::Response>>
                + Send
                + 'async_trait,
        >,
    >
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async { Ok(reqwest::Response::from(http::Response::new("ok"))) })
    }
}
