//! Procedural macros of [`mvi`](https://docs.rs/mvi). Depend on `mvi` and use them as `mvi::observe`.
//!
//! Set `MVI_MACROS_DEBUG=1` while building to print every expansion to stderr.
//!
//! Each macro is parsed (a model of what was written, with its spans), validated (every rule, giving
//! a checked model; `names.rs` and `buckets.rs` hold the rules the macros share) and expanded (printing
//! only). `attr.rs` holds the attribute helpers every macro uses, `decl.rs` the one emitter of a
//! catalog entry.

mod attr;
mod buckets;
mod ctxt;
mod debug;
mod decl;
mod fallback;
mod labels;
mod metrics;
mod names;
mod observe;
mod traced_handler;
mod ty;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Records a call counter, a latency histogram and optionally a concurrency gauge for a function, a
/// method or every method of an `impl` block. See the `mvi` crate's documentation for the options.
#[proc_macro_attribute]
pub fn observe(args: TokenStream, item: TokenStream) -> TokenStream {
    debug::print("observe", observe::observe(args.into(), item.into())).into()
}

/// Traces an axum handler: W3C trace context, a server span, `http_requests_total` and
/// `http_request_duration_seconds`, `traceparent` and `x-request-id` on the response, panics as 500.
#[proc_macro_attribute]
pub fn traced_handler(args: TokenStream, item: TokenStream) -> TokenStream {
    let tokens = traced_handler::traced_handler(args.into(), item.into());
    debug::print("traced_handler", tokens).into()
}

/// Declares counters, gauges and histograms that are not calls of a function, each a `static` whose
/// methods take its label values as typed arguments. See the `mvi` crate's documentation.
#[proc_macro]
pub fn metrics(input: TokenStream) -> TokenStream {
    debug::print("metrics", metrics::metrics(input.into())).into()
}

/// Makes a field-less enum a closed set of label values: `#[derive(mvi::LabelValue)]`.
///
/// Each variant is a value, in snake_case unless renamed with `#[label(rename = "...")]`.
#[proc_macro_derive(LabelValue, attributes(label))]
pub fn derive_label_value(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    let tokens = labels::derive_label_value(&input).unwrap_or_else(syn::Error::into_compile_error);
    debug::print("LabelValue", tokens).into()
}

/// Makes a struct with named fields a typed label set: `#[derive(mvi::Labels)]`.
///
/// Each field is a label named after it (or `#[label(name = "...")]`) whose type implements `LabelValue`.
#[proc_macro_derive(Labels, attributes(label))]
pub fn derive_labels(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    let tokens = labels::derive_labels(&input).unwrap_or_else(syn::Error::into_compile_error);
    debug::print("Labels", tokens).into()
}
