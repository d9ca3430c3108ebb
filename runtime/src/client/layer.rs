//! The tower layer: the same client span, headers and metrics for any tower `Service` of
//! `http::Request`s (hyper-util's `Client`, a tonic `Channel`, a stack of tower middleware).

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use super::{Call, Target};

/// A `tower::Layer` that traces and counts the calls of the client it wraps.
///
/// ```
/// use tower::{Layer as _, ServiceExt as _};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// // Any client service; here one that answers 204 itself.
/// let client = tower::service_fn(|request: http::Request<String>| async move {
///     assert!(request.headers().contains_key("traceparent"));
///     let response = http::Response::builder().status(204).body(String::new()).unwrap();
///     Ok::<_, std::convert::Infallible>(response)
/// });
/// let client = mvi::client::Layer::new().layer(client);
/// let request = http::Request::get("http://payments.internal/health").body(String::new()).unwrap();
/// let response = client.oneshot(request).await.unwrap();
/// assert_eq!(response.status(), 204);
/// # }
/// ```
///
/// A failure's `error_type` is read from the error (and its sources) when the service's error is a
/// `Box<dyn Error + Send + Sync>` (as tower's own middleware return) or an `std::io::Error`:
/// `timeout`, `connect`, else `_OTHER`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Layer(());

impl Layer {
    /// The layer.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower::Layer as _;
    ///
    /// let client = tower::service_fn(|_: http::Request<String>| async {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
    /// });
    /// let traced = mvi::client::Layer::new().layer(client);
    /// # let _ = traced;
    /// ```
    pub fn new() -> Layer {
        Layer(())
    }
}

impl<S> tower::Layer<S> for Layer {
    type Service = Service<S>;

    fn layer(&self, inner: S) -> Service<S> {
        Service { inner }
    }
}

/// A client service wrapped by [`Layer`].
///
/// # Examples
///
/// ```
/// use tower::Layer as _;
///
/// let client = tower::service_fn(|_: http::Request<String>| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
/// });
/// let traced: mvi::client::Service<_> = mvi::client::Layer::new().layer(client);
/// # drop(traced);
/// ```
#[derive(Clone, Debug)]
pub struct Service<S> {
    inner: S,
}

impl<S, B, RB> tower::Service<http::Request<B>> for Service<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<RB>>,
    S::Error: 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = LayerFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let uri = request.uri();
        let scheme = uri.scheme_str().unwrap_or("http");
        let default_port = match scheme {
            "https" => Some(443),
            "http" => Some(80),
            _ => None,
        };
        let call = Call::begin(
            request.method(),
            &Target {
                scheme,
                host: uri.host().unwrap_or(""),
                port: uri.port_u16().or(default_port),
                explicit_port: uri.port_u16().is_some(),
                path: uri.path(),
            },
        );
        call.inject(request.headers_mut());
        LayerFuture {
            inner: self.inner.call(request),
            call: Some(call),
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`Service`].
    ///
    /// # Examples
    ///
    /// ```
    /// use tower::{Layer as _, Service as _};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let client = tower::service_fn(|_: http::Request<String>| async {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(String::from("pong")))
    /// });
    /// let mut traced = mvi::client::Layer::new().layer(client);
    /// let future: mvi::client::LayerFuture<_> =
    ///     traced.call(http::Request::get("http://ping.internal/").body(String::new()).unwrap());
    /// assert_eq!(future.await.unwrap().into_body(), "pong");
    /// # }
    /// ```
    #[derive(Debug)]
    pub struct LayerFuture<F> {
        #[pin]
        inner: F,
        call: Option<Call>,
    }
}

impl<F, RB, E> Future for LayerFuture<F>
where
    F: Future<Output = Result<http::Response<RB>, E>>,
    E: 'static,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        if let Some(mut call) = this.call.take() {
            match &result {
                Ok(response) => call.finish(Some(response.status()), None),
                Err(error) => call.finish(None, Some(error_type(error))),
            }
        }
        Poll::Ready(result)
    }
}

/// What a client service's error says, where its type lets us look.
fn error_type(error: &dyn Any) -> &'static str {
    if let Some(e) = error.downcast_ref::<Box<dyn std::error::Error + Send + Sync>>() {
        super::error_type(&**e)
    } else if let Some(e) = error.downcast_ref::<std::io::Error>() {
        super::error_type(e)
    } else {
        "_OTHER"
    }
}
