//! What a macro emits when the user's code has a mistake: the item unchanged, so the rest of the crate
//! still type-checks and one mistake gives one error, followed by the errors (tokio's
//! `token_stream_with_error`, thiserror's `fallback.rs`).

use proc_macro2::TokenStream;
use quote::quote;

pub(crate) fn expand(item: TokenStream, error: syn::Error) -> TokenStream {
    let errors = error.to_compile_error();
    quote!(#item #errors)
}
