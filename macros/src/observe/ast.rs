//! Parse step of `#[observe]`'s item: a function, or an `impl` block whose methods may carry their own
//! `#[observe(...)]`.

use proc_macro2::{Span, TokenStream};
use syn::{ImplItem, ItemFn, ItemImpl};

use super::attr::Attr;
use crate::attr::first_token_span;
use crate::ctxt::Ctxt;

pub(crate) enum Item {
    Fn(ItemFn),
    /// The block, its methods' `#[observe]` attributes removed (they are ours to read).
    Impl {
        item: ItemImpl,
        methods: Vec<Method>,
    },
    /// A function without a body, as in a trait declaration; the span of its `fn`.
    Bodyless(Span),
    /// Anything else, with the span of its first token.
    Other(Span),
}

/// A method of an observed `impl` block.
pub(crate) struct Method {
    /// Its position in the block's items.
    pub(crate) index: usize,
    /// Its `#[observe]` attributes, as written.
    pub(crate) observe_attrs: Vec<syn::Attribute>,
    /// The first of them, parsed (empty when there is none).
    pub(crate) attr: Attr,
}

impl Item {
    pub(crate) fn parse(item: TokenStream, cx: &Ctxt) -> syn::Result<Item> {
        Ok(match syn::parse2::<syn::Item>(item)? {
            syn::Item::Fn(f) => Item::Fn(f),
            syn::Item::Impl(mut item) => {
                let mut methods = Vec::new();
                for (index, it) in item.items.iter_mut().enumerate() {
                    let ImplItem::Fn(method) = it else { continue };
                    let (observe_attrs, others) = std::mem::take(&mut method.attrs)
                        .into_iter()
                        .partition(is_observe_attr);
                    method.attrs = others;
                    let attr = match observe_attrs.first() {
                        Some(a) => Attr::parse_inner(a, cx),
                        None => Attr::default(),
                    };
                    methods.push(Method {
                        index,
                        observe_attrs,
                        attr,
                    });
                }
                Item::Impl { item, methods }
            }
            syn::Item::Verbatim(v) => match syn::parse2::<syn::TraitItemFn>(v.clone()) {
                Ok(f) => Item::Bodyless(f.sig.fn_token.span),
                Err(_) => Item::Other(first_token_span(v)),
            },
            other => Item::Other(first_token_span(other)),
        })
    }

    /// What to emit when there are errors: the user's item, but an `impl` without the inner
    /// `#[observe]`s, which would report the same errors again.
    pub(crate) fn unchanged(&self, original: TokenStream) -> TokenStream {
        match self {
            Item::Impl { item, .. } => quote::quote!(#item),
            _ => original,
        }
    }
}

/// Whether an attribute is `#[observe(...)]` or `#[mvi::observe(...)]` (any path ending in `observe`).
fn is_observe_attr(attr: &syn::Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "observe")
}
