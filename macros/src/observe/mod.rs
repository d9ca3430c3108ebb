//! `#[observe]`: parse (`attr.rs` for the options, `ast.rs` for the item), validate (`valid.rs`, with
//! the shared `names.rs` and `buckets.rs`), expand (`expand.rs`).

mod ast;
mod attr;
mod expand;
mod valid;

use proc_macro2::TokenStream;

use crate::ctxt::Ctxt;
use crate::fallback;

pub(crate) fn observe(args: TokenStream, item: TokenStream) -> TokenStream {
    let cx = Ctxt::new();
    let attr = attr::Attr::parse(args, &cx);
    let (unchanged, checked) = match ast::Item::parse(item.clone(), &cx) {
        Ok(parsed) => (parsed.unchanged(item), valid::check(parsed, attr, &cx)),
        Err(e) => {
            cx.push(e);
            (item, None)
        }
    };
    match (cx.check(), checked) {
        (Ok(()), Some(checked)) => expand::expand(checked),
        (Err(e), _) => fallback::expand(unchanged, e),
        (Ok(()), None) => unreachable!("validation reports why it has no result"),
    }
}
