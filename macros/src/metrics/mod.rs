//! `mvi::metrics!`: parse (`ast.rs`), validate (`valid.rs`, with the shared `names.rs` and
//! `buckets.rs`), expand (`expand.rs`).

mod ast;
mod expand;
mod valid;

use proc_macro2::TokenStream;

use crate::ctxt::Ctxt;
use crate::fallback;

pub(crate) fn metrics(input: TokenStream) -> TokenStream {
    let cx = Ctxt::new();
    let parsed = ast::Input::parse(input, &cx);
    let checked = valid::check(parsed, &cx);
    // Every declaration that could be read is expanded, mistakes or not, so its uses still type-check
    // and one mistake gives one error.
    let expanded = expand::expand(&checked);
    match cx.check() {
        Ok(()) => expanded,
        Err(e) => fallback::expand(expanded, e),
    }
}
