//! `#[derive(LabelValue)]` and `#[derive(Labels)]`: parse (`attr.rs` for `#[label(...)]`, `ast.rs` for
//! the input), validate (`valid.rs`, with the shared `names.rs`), expand (`expand.rs`).

mod ast;
mod attr;
mod expand;
mod valid;

use proc_macro2::TokenStream;
use syn::DeriveInput;

use crate::ctxt::Ctxt;

pub(crate) fn derive_label_value(input: &DeriveInput) -> syn::Result<TokenStream> {
    let cx = Ctxt::new();
    let checked = ast::Enum::from_syn(input, &cx).map(|e| valid::value_set(e, &cx));
    cx.check()?;
    Ok(checked.map_or_else(TokenStream::new, |set| expand::value_set(&set)))
}

pub(crate) fn derive_labels(input: &DeriveInput) -> syn::Result<TokenStream> {
    let cx = Ctxt::new();
    let checked = ast::Struct::from_syn(input, &cx).map(|s| valid::label_set(s, &cx));
    cx.check()?;
    Ok(checked.map_or_else(TokenStream::new, |set| expand::label_set(&set)))
}
