//! Procedural macros of [`mvi`](https://docs.rs/mvi). Depend on `mvi` and use them as `mvi::observe`.
//!
//! Set `MVI_MACROS_DEBUG=1` while building to print every expansion to stderr.

mod buckets;
mod ctxt;
mod labels;
mod names;
mod observe;
mod traced_handler;

use proc_macro::TokenStream;

/// Records a call counter, a latency histogram and optionally a concurrency gauge for a function, a
/// method or every method of an `impl` block. See the `mvi` crate's documentation for the options.
#[proc_macro_attribute]
pub fn observe(args: TokenStream, item: TokenStream) -> TokenStream {
    debug("observe", observe::observe(args.into(), item.into())).into()
}

/// Traces an axum handler: W3C trace context, a server span, `http_requests_total` and
/// `http_request_duration_seconds`, `traceparent` and `x-request-id` on the response, panics as 500.
#[proc_macro_attribute]
pub fn traced_handler(args: TokenStream, item: TokenStream) -> TokenStream {
    debug(
        "traced_handler",
        traced_handler::traced_handler(args.into(), item.into()),
    )
    .into()
}

/// Makes a field-less enum a closed set of label values: `#[derive(mvi::LabelValue)]`.
///
/// Each variant is a value, in snake_case unless renamed with `#[label(rename = "...")]`.
#[proc_macro_derive(LabelValue, attributes(label))]
pub fn derive_label_value(input: TokenStream) -> TokenStream {
    derive("LabelValue", input, labels::derive_label_value)
}

/// Makes a struct with named fields a typed label set: `#[derive(mvi::Labels)]`.
///
/// Each field is a label named after it (or `#[label(name = "...")]`) whose type implements `LabelValue`.
#[proc_macro_derive(Labels, attributes(label))]
pub fn derive_labels(input: TokenStream) -> TokenStream {
    derive("Labels", input, labels::derive_labels)
}

fn derive(
    name: &str,
    input: TokenStream,
    expand: fn(syn::DeriveInput) -> syn::Result<proc_macro2::TokenStream>,
) -> TokenStream {
    let tokens = syn::parse::<syn::DeriveInput>(input)
        .and_then(expand)
        .unwrap_or_else(|e| e.to_compile_error());
    debug(name, tokens).into()
}

/// Prints an expansion when `MVI_MACROS_DEBUG` is set, as axum-macros does with `AXUM_MACROS_DEBUG`.
fn debug(name: &str, tokens: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    if std::env::var_os("MVI_MACROS_DEBUG").is_some_and(|v| v != "0") {
        let pretty = syn::parse2::<syn::File>(tokens.clone())
            .map_or_else(|_| tokens.to_string(), |f| quote::quote!(#f).to_string());
        eprintln!("mvi::{name} expands to:\n{pretty}\n");
    }
    tokens
}
