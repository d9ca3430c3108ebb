//! `MVI_MACROS_DEBUG=1` while building prints every expansion to stderr, as axum-macros does with
//! `AXUM_MACROS_DEBUG`.

use proc_macro2::TokenStream;

pub(crate) fn print(name: &str, tokens: TokenStream) -> TokenStream {
    if std::env::var_os("MVI_MACROS_DEBUG").is_some_and(|v| v != "0") {
        let pretty = syn::parse2::<syn::File>(tokens.clone())
            .map_or_else(|_| tokens.to_string(), |f| quote::quote!(#f).to_string());
        eprintln!("mvi::{name} expands to:\n{pretty}\n");
    }
    tokens
}
