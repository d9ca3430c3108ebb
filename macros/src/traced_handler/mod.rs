//! `#[traced_handler]`: parse (`attr.rs` for the options; the item is an `ItemFn`), validate
//! (`valid.rs`), expand (`expand.rs`).

mod attr;
mod expand;
mod valid;

use proc_macro2::TokenStream;

use crate::attr::first_token_span;
use crate::ctxt::Ctxt;
use crate::fallback;

pub(crate) fn traced_handler(args: TokenStream, item: TokenStream) -> TokenStream {
    let cx = Ctxt::new();
    let attr = attr::Attr::parse(args, &cx);
    let f = match syn::parse2::<syn::ItemFn>(item.clone()) {
        Ok(f) => Some(f),
        Err(_) => {
            cx.error(
                first_token_span(&item),
                "`#[traced_handler]` goes on an `async fn` axum handler",
            );
            None
        }
    };
    let handler = valid::check(f, attr, &cx);
    match (cx.check(), handler) {
        (Ok(()), Some(handler)) => expand::expand(handler),
        (Err(e), _) => fallback::expand(item, e),
        (Ok(()), None) => unreachable!("validation reports why it has no result"),
    }
}
