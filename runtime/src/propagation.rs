//! W3C trace context across process boundaries, for any transport.
//!
//! [`inject`] writes the current context (`mvi::context::current()`: the request's server span, the
//! `#[observe(span)]` call, ...) as `traceparent` and `tracestate` into an outgoing request's headers;
//! [`extract`] reads them from an incoming one, strictly validated, as a parent to continue. The
//! `_into`/`_from` forms do the same for any key-value carrier: the headers of a Kafka record or an AMQP
//! message, a job's metadata, a `HashMap`.
//!
//! ```
//! use std::collections::HashMap;
//!
//! // A producer puts the current trace into the message it sends ...
//! let mut message_headers: HashMap<String, String> = HashMap::new();
//! mvi::propagation::inject_into(&mut message_headers);
//!
//! // ... and the consumer continues it: an `#[observe(span)]` function adopts it as its parent
//! // (or starts a new trace when the message carries none), and log lines inside carry its ids.
//! #[mvi::observe(span(parent = mvi::propagation::extract_from(headers)))]
//! fn consume(headers: &HashMap<String, String>, body: &str) -> usize {
//!     tracing::info!("consuming");
//!     body.len()
//! }
//! assert_eq!(consume(&message_headers, "four"), 4);
//! ```
//!
//! Outgoing HTTP calls get this (and a client span, and client metrics) from
//! [`client::Middleware`](crate::client) for `reqwest` and [`client::Layer`](crate::client::Layer) for
//! tower-based clients; use [`inject`] for any other.

use std::collections::{BTreeMap, HashMap};

use http::{HeaderMap, HeaderName, HeaderValue};

use crate::context::{self, Carried, SpanContext};
use crate::trace_context::{self, TRACEPARENT, TRACESTATE, TraceParent};

/// A carrier to write trace headers into: implement it for your message type's headers.
///
/// ```
/// /// Headers as a Kafka client has them: byte values.
/// struct KafkaHeaders(Vec<(String, Vec<u8>)>);
///
/// impl mvi::propagation::Injector for KafkaHeaders {
///     fn set(&mut self, key: &'static str, value: String) {
///         self.0.retain(|(k, _)| k != key);
///         self.0.push((key.to_string(), value.into_bytes()));
///     }
/// }
///
/// impl mvi::propagation::Extractor for KafkaHeaders {
///     fn get(&self, key: &str) -> Option<&str> {
///         let (_, v) = self.0.iter().find(|(k, _)| k.eq_ignore_ascii_case(key))?;
///         std::str::from_utf8(v).ok()
///     }
/// }
///
/// let mut headers = KafkaHeaders(Vec::new());
/// let sender = mvi::propagation::extract_from(&vec![(
///     "traceparent".to_string(),
///     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_string(),
/// )]);
/// sender.unwrap().in_scope(|| mvi::propagation::inject_into(&mut headers));
/// let received = mvi::propagation::extract_from(&headers).unwrap();
/// assert_eq!(
///     received.span_context().unwrap().trace_id.to_string(),
///     "4bf92f3577b34da6a3ce929d0e0e4736"
/// );
/// ```
pub trait Injector {
    /// Sets `key` (`traceparent` or `tracestate`, lowercase) to `value`, replacing any value it had.
    ///
    /// # Examples
    ///
    /// ```
    /// use mvi::propagation::Injector;
    ///
    /// let mut headers: Vec<(String, String)> = Vec::new();
    /// headers.set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into());
    /// assert_eq!(headers.len(), 1);
    /// ```
    fn set(&mut self, key: &'static str, value: String);
}

/// A carrier to read trace headers from: implement it for your message type's headers (see
/// [`Injector`] for an example of both).
///
/// # Examples
///
/// ```
/// use std::collections::HashMap;
/// use mvi::propagation::Extractor;
///
/// let mut headers = HashMap::new();
/// headers.insert("traceparent".to_string(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_string());
/// assert!(Extractor::get(&headers, "traceparent").is_some());
/// assert!(mvi::propagation::extract_from(&headers).is_some());
/// ```
pub trait Extractor {
    /// The value of `key` (`traceparent` or `tracestate`), if present.
    ///
    /// # Examples
    ///
    /// ```
    /// use mvi::propagation::Extractor;
    ///
    /// let headers = vec![("tracestate".to_string(), "vendor=abc".to_string())];
    /// assert_eq!(Extractor::get(&headers, "tracestate"), Some("vendor=abc"));
    /// ```
    fn get(&self, key: &str) -> Option<&str>;
}

impl Injector for HeaderMap {
    fn set(&mut self, key: &'static str, value: String) {
        if let Ok(value) = HeaderValue::try_from(value) {
            self.insert(HeaderName::from_static(key), value);
        }
    }
}

impl Extractor for HeaderMap {
    fn get(&self, key: &str) -> Option<&str> {
        HeaderMap::get(self, key).and_then(|v| v.to_str().ok())
    }
}

impl<S: std::hash::BuildHasher> Injector for HashMap<String, String, S> {
    fn set(&mut self, key: &'static str, value: String) {
        self.insert(key.to_string(), value);
    }
}

impl<S: std::hash::BuildHasher> Extractor for HashMap<String, String, S> {
    fn get(&self, key: &str) -> Option<&str> {
        HashMap::get(self, key).map(String::as_str)
    }
}

impl Injector for BTreeMap<String, String> {
    fn set(&mut self, key: &'static str, value: String) {
        self.insert(key.to_string(), value);
    }
}

impl Extractor for BTreeMap<String, String> {
    fn get(&self, key: &str) -> Option<&str> {
        BTreeMap::get(self, key).map(String::as_str)
    }
}

impl Injector for Vec<(String, String)> {
    fn set(&mut self, key: &'static str, value: String) {
        self.retain(|(k, _)| k != key);
        self.push((key.to_string(), value));
    }
}

impl Extractor for Vec<(String, String)> {
    fn get(&self, key: &str) -> Option<&str> {
        self.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// Writes the current context into an outgoing request's headers: `traceparent` (its trace, its span
/// as the parent, its flags) and `tracestate` when the trace has one. Outside any trace it writes
/// nothing, and the receiver starts a new trace.
///
/// # Examples
///
/// ```
/// #[mvi::observe(span)]
/// fn call_payments() -> http::HeaderMap {
///     let mut headers = http::HeaderMap::new();
///     mvi::propagation::inject(&mut headers); // this call's span as the parent
///     headers
/// }
///
/// let headers = call_payments();
/// let traceparent = headers["traceparent"].to_str().unwrap();
/// assert!(traceparent.starts_with("00-") && traceparent.len() == 55);
///
/// let mut outside = http::HeaderMap::new();
/// mvi::propagation::inject(&mut outside);
/// assert!(outside.is_empty()); // no trace, nothing written
/// ```
pub fn inject(headers: &mut HeaderMap) {
    if let Some(cx) = context::current() {
        insert(headers, cx, context::tracestate().as_deref());
    }
}

/// Writes `cx` (as the parent of the receiver's span) and `tracestate` into request headers,
/// replacing what they had.
pub(crate) fn insert(headers: &mut HeaderMap, cx: SpanContext, tracestate: Option<&str>) {
    headers.insert(
        TRACEPARENT,
        TraceParent::child_header(cx.trace_id, cx.span_id, cx.flags),
    );
    match tracestate.and_then(|s| HeaderValue::from_str(s).ok()) {
        Some(state) => drop(headers.insert(TRACESTATE, state)),
        None => drop(headers.remove(TRACESTATE)),
    }
}

/// [`inject`] for any carrier.
///
/// # Examples
///
/// ```
/// use std::collections::HashMap;
///
/// let carrier = vec![("traceparent".to_string(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_string())];
/// let parent = mvi::propagation::extract_from(&carrier).unwrap();
/// let mut message: HashMap<String, String> = HashMap::new();
/// parent.in_scope(|| mvi::propagation::inject_into(&mut message));
/// assert!(message["traceparent"].starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
/// ```
pub fn inject_into(carrier: &mut impl Injector) {
    if let Some(cx) = context::current() {
        write(carrier, cx, context::tracestate().as_deref());
    }
}

/// Writes `cx` (as the parent of the receiver's span) and `tracestate` into a carrier.
pub(crate) fn write(carrier: &mut impl Injector, cx: SpanContext, tracestate: Option<&str>) {
    let bytes = TraceParent::child_bytes(cx.trace_id, cx.span_id, cx.flags);
    carrier.set("traceparent", String::from_utf8_lossy(&bytes).into_owned());
    if let Some(state) = tracestate {
        carrier.set("tracestate", state.to_string());
    }
}

/// The sender's context in an incoming request's headers, if `traceparent` is valid (strictly: see
/// [`trace_context`]), with its `tracestate`: the parent to continue. Run code
/// in it with [`Carried::scope`] or [`Carried::in_scope`], or let an `#[observe(span(parent = ...))]`
/// function adopt it.
///
/// # Examples
///
/// ```
/// let mut headers = http::HeaderMap::new();
/// headers.insert("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse().unwrap());
/// let parent = mvi::propagation::extract(&headers).unwrap();
/// assert_eq!(parent.span_context().unwrap().trace_id.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
///
/// headers.insert("traceparent", "00-not-a-trace".parse().unwrap());
/// assert!(mvi::propagation::extract(&headers).is_none()); // invalid: the receiver starts a new trace
/// ```
pub fn extract(headers: &HeaderMap) -> Option<Carried> {
    let (parent, state) = trace_context::extract(headers)?;
    Some(remote(parent, state))
}

/// [`extract`] for any carrier.
///
/// # Examples
///
/// ```
/// use std::collections::BTreeMap;
///
/// let mut job = BTreeMap::new();
/// job.insert("traceparent".to_string(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_string());
/// let parent = mvi::propagation::extract_from(&job).unwrap();
/// assert!(parent.span_context().unwrap().is_sampled());
/// ```
pub fn extract_from(carrier: &impl Extractor) -> Option<Carried> {
    let parent = trace_context::parse_traceparent(carrier.get("traceparent")?.as_bytes())?;
    let state = trace_context::parse_tracestate(carrier.get("tracestate").into_iter());
    Some(remote(parent, state))
}

fn remote(parent: TraceParent, state: Option<String>) -> Carried {
    Carried::remote(
        SpanContext {
            trace_id: parent.trace_id,
            span_id: parent.parent_id,
            flags: parent.flags,
        },
        state.map(Into::into),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{Extra, enter};
    use crate::trace_context::{SpanId, TraceId};

    #[test]
    fn what_is_injected_is_extracted() {
        let cx = SpanContext {
            trace_id: TraceId(0x4bf92f3577b34da6a3ce929d0e0e4736),
            span_id: SpanId(0x00f067aa0ba902b7),
            flags: 0x03,
        };
        let mut extra = Extra {
            tracestate: Some("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE".into()),
            remote: false,
        };
        let (mut headers, mut map, mut list) = (HeaderMap::new(), HashMap::new(), Vec::new());
        {
            let _entered = enter(Some(cx), &mut extra);
            inject(&mut headers);
            inject_into(&mut map);
            inject_into(&mut list);
        }
        assert_eq!(
            headers["traceparent"],
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03"
        );
        assert_eq!(map["traceparent"], headers["traceparent"]);
        for carried in [
            extract(&headers),
            extract_from(&headers),
            extract_from(&map),
            extract_from(&list),
        ] {
            let carried = carried.expect("extracted");
            assert_eq!(carried.span_context(), Some(cx));
            assert_eq!(
                carried.tracestate(),
                Some("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")
            );
        }
    }

    #[test]
    fn nothing_is_injected_outside_a_trace_and_bad_headers_are_ignored() {
        let mut map = HashMap::new();
        inject_into(&mut map);
        assert!(map.is_empty());
        map.insert("traceparent".to_string(), "00-zz".to_string());
        assert!(extract_from(&map).is_none());
        map.insert(
            "traceparent".to_string(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_string(),
        );
        map.insert("tracestate".to_string(), "Bad Key=1".to_string());
        let carried = extract_from(&map).unwrap();
        assert_eq!(carried.tracestate(), None);
    }
}
