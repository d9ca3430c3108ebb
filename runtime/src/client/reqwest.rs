//! The `reqwest-middleware` middleware (feature `reqwest`).

use std::future::Future;
use std::pin::Pin;

use http::Extensions;
use reqwest_middleware::{Next, Result};

use super::{Call, Target};

/// A `reqwest-middleware` middleware that traces and counts every call (see the [module](super)).
///
/// ```
/// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(mvi::client::Middleware::new())
///     .build();
/// # drop(client);
/// ```
#[derive(Clone, Copy, Debug, Default)]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub struct Middleware(());

impl Middleware {
    /// The middleware.
    ///
    /// # Examples
    ///
    /// ```
    /// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
    ///     .with(mvi::client::Middleware::new())
    ///     .build();
    /// # drop(client);
    /// ```
    pub fn new() -> Middleware {
        Middleware(())
    }
}

// What `#[async_trait]` makes of `async fn handle`, written out so that mvi does not need the macro.
impl reqwest_middleware::Middleware for Middleware {
    fn handle<'life0, 'life1, 'life2, 'async_trait>(
        &'life0 self,
        mut request: reqwest::Request,
        extensions: &'life1 mut Extensions,
        next: Next<'life2>,
    ) -> Pin<Box<dyn Future<Output = Result<reqwest::Response>> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        Self: 'async_trait,
    {
        let mut call = Call::begin(request.method(), &target(request.url()));
        call.inject(request.headers_mut());
        Box::pin(async move {
            let result = next.run(request, extensions).await;
            match &result {
                Ok(response) => call.finish(Some(response.status()), None),
                Err(reqwest_middleware::Error::Reqwest(e)) => {
                    call.finish(None, Some(error_type(e)))
                }
                Err(reqwest_middleware::Error::Middleware(_)) => {
                    call.finish(None, Some("middleware"))
                }
            }
            result
        })
    }
}

/// Where a call goes: credentials, query and fragment are left out.
fn target(url: &reqwest::Url) -> Target<'_> {
    Target {
        scheme: url.scheme(),
        host: url.host_str().unwrap_or(""),
        port: url.port_or_known_default(),
        explicit_port: url.port().is_some(),
        path: url.path(),
    }
}

/// What failed, from reqwest's own classification.
pub(super) fn error_type(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_redirect() {
        "redirect"
    } else if e.is_body() {
        "body"
    } else if e.is_decode() {
        "decode"
    } else if e.is_builder() {
        "builder"
    } else if e.is_request() {
        "request"
    } else {
        "_OTHER"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_full_has_no_credentials_query_or_fragment() {
        let url = |s: &str| reqwest::Url::parse(s).unwrap();
        let secret = url("https://ada:hunter2@pay.example:8443/v1/charge?card=4242#x");
        let t = target(&secret);
        assert_eq!(t.to_string(), "https://pay.example:8443/v1/charge");
        assert_eq!((t.host, t.port), ("pay.example", Some(8443)));
        let plain = url("http://pay.example/charge?x=1");
        let t = target(&plain);
        assert_eq!(t.to_string(), "http://pay.example/charge");
        assert_eq!(t.port, Some(80));
    }
}
