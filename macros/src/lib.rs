//! Procedural macros of [`mvi`](https://docs.rs/mvi). Depend on `mvi` and use them as `mvi::observe`.
//!
//! Set `MVI_MACROS_DEBUG=1` while building to print every expansion to stderr.

mod buckets;
mod ctxt;
mod names;
mod observe;

use proc_macro::TokenStream;

/// Records a call counter, a latency histogram and optionally a concurrency gauge for a function, a
/// method or every method of an `impl` block. See the `mvi` crate's documentation for the options.
#[proc_macro_attribute]
pub fn observe(args: TokenStream, item: TokenStream) -> TokenStream {
    debug("observe", observe::observe(args.into(), item.into())).into()
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
