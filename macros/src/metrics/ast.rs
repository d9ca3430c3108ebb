//! Parse step of `mvi::metrics!`: each declaration as written, with the syn nodes kept for spans.
//!
//! The input is split at its top-level `;`s first, so a declaration that does not parse is reported
//! and left out while the others are still read. Options are read here only for their syntax (unknown,
//! repeated or malformed ones); every rule is in `valid.rs`.

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::meta::ParseNestedMeta;
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Ident, LitInt, LitStr, Path, Token, Type, Visibility};

use crate::attr::{self, Keys};
use crate::buckets;
use crate::ctxt::Ctxt;

/// The kinds of metric, as written before the static's name.
pub(crate) const KINDS: &[&str] = &["counter", "gauge", "histogram"];

/// The options each kind takes in its parentheses: `histogram(buckets = ...)`.
fn option_keys(kind: &str) -> &'static [&'static str] {
    match kind {
        "counter" => &["max_series", "unit"],
        "gauge" => &["callback", "max_series", "unit"],
        _ => &["buckets", "max_series", "unit"],
    }
}

/// The whole input: `crate = path;` if given, and the declarations that parsed.
pub(crate) struct Input {
    pub(crate) krate: Option<Path>,
    pub(crate) items: Vec<Item>,
}

/// `/// Help. \n pub counter(options) IDENT: "name" { label: Type, ... };`
pub(crate) struct Item {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    /// `counter`, `gauge` or `histogram`, as written (checked in `valid.rs`).
    pub(crate) kind: Ident,
    pub(crate) options: Options,
    pub(crate) ident: Ident,
    /// The metric name; `None` when it is not a string literal, which is reported here.
    pub(crate) name: Option<LitStr>,
    /// The span of the `{ ... }` of the labels, or of the name when there are none.
    pub(crate) labels_span: Span,
    pub(crate) labels: Vec<LabelDecl>,
}

/// The options in the parentheses after the kind.
#[derive(Default)]
pub(crate) struct Options {
    /// `callback`, with its span.
    pub(crate) callback: Option<Span>,
    pub(crate) buckets: Option<buckets::Spec>,
    pub(crate) max_series: Option<LitInt>,
    pub(crate) unit: Option<LitStr>,
    /// An option was reported (unknown, repeated, malformed): what it would have said is unknown.
    pub(crate) rejected: bool,
}

/// `region: Region` in the labels of a declaration.
pub(crate) struct LabelDecl {
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
}

impl Input {
    pub(crate) fn parse(input: TokenStream, cx: &Ctxt) -> Input {
        let mut out = Input {
            krate: None,
            items: Vec::new(),
        };
        for chunk in statements(input) {
            let is_crate = matches!(chunk.first(), Some(TokenTree::Ident(i)) if i == "crate");
            let tokens: TokenStream = chunk.into_iter().collect();
            if is_crate {
                let krate = (|input: ParseStream<'_>| {
                    let keyword: Token![crate] = input.parse()?;
                    input.parse::<Token![=]>()?;
                    let path = if input.peek(LitStr) {
                        input.parse::<LitStr>()?.parse()?
                    } else {
                        input.parse::<Path>()?
                    };
                    input.parse::<Option<Token![;]>>()?;
                    Ok((keyword, path))
                })
                .parse2(tokens);
                match krate {
                    Ok((keyword, _)) if out.krate.is_some() || !out.items.is_empty() => cx.error(
                        keyword.span,
                        "`crate = ...` goes once, before the first declaration",
                    ),
                    Ok((_, path)) => out.krate = Some(path),
                    Err(e) => cx.push(e),
                }
                continue;
            }
            match (|input: ParseStream<'_>| Item::parse(input, cx)).parse2(tokens) {
                Ok(item) => out.items.push(item),
                Err(e) => cx.push(e),
            }
        }
        out
    }
}

/// The input split after each top-level `;` (a `;` inside brackets belongs to its group).
fn statements(input: TokenStream) -> Vec<Vec<TokenTree>> {
    let mut out = vec![Vec::new()];
    for tt in input {
        let end = matches!(&tt, TokenTree::Punct(p) if p.as_char() == ';');
        out.last_mut().expect("never empty").push(tt);
        if end {
            out.push(Vec::new());
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

impl Item {
    fn parse(input: ParseStream<'_>, cx: &Ctxt) -> syn::Result<Item> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        let kind: Ident = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected a metric: `counter NAME: \"..._total\" { label: Type };`, or `gauge`, or `histogram`",
            )
        })?;
        let options = if input.peek(syn::token::Paren) {
            let content;
            syn::parenthesized!(content in input);
            Options::parse(&kind, content.parse()?, cx)
        } else {
            Options::default()
        };
        let ident: Ident = input.parse()?;
        input.parse::<Token![:]>()?;
        let name = if input.peek(LitStr) {
            Some(input.parse::<LitStr>()?)
        } else {
            // Reported, and skipped up to the labels, so the rest of the declaration is still read.
            cx.error(
                input.span(),
                "expected the metric name as a string literal, like `\"shop_items_sold_total\"`",
            );
            while !input.is_empty() && !input.peek(syn::token::Brace) && !input.peek(Token![;]) {
                input.parse::<TokenTree>()?;
            }
            None
        };
        let (labels_span, labels) = if input.peek(syn::token::Brace) {
            let content;
            let braces = syn::braced!(content in input);
            let labels = Punctuated::<LabelDecl, Token![,]>::parse_terminated_with(
                &content,
                LabelDecl::parse,
            )?;
            (braces.span.join(), labels.into_iter().collect())
        } else {
            (name.as_ref().map_or(ident.span(), LitStr::span), Vec::new())
        };
        input.parse::<Option<Token![;]>>()?;
        if !input.is_empty() {
            return Err(input.error("expected `;` at the end of the declaration"));
        }
        Ok(Item {
            attrs,
            vis,
            kind,
            options,
            ident,
            name,
            labels_span,
            labels,
        })
    }
}

impl LabelDecl {
    fn parse(input: ParseStream<'_>) -> syn::Result<LabelDecl> {
        let ident: Ident = input.parse()?;
        input.parse::<Token![:]>()?;
        Ok(LabelDecl {
            ident,
            ty: input.parse()?,
        })
    }
}

impl Options {
    /// The options of `kind(...)`; errors go to `cx` and parsing goes on where it can. An unknown kind
    /// is reported in `valid.rs`; its options are read as a histogram's.
    fn parse(kind: &Ident, tokens: TokenStream, cx: &Ctxt) -> Options {
        let mut options = Options::default();
        let mut keys = Keys::new(option_keys(&attr::ident_name(kind)));
        let parser = syn::meta::parser(|meta| match keys.accept(&meta, cx)? {
            Some(key) => options.option(key, &meta, cx),
            None => {
                options.rejected = true;
                Ok(())
            }
        });
        if let Err(e) = parser.parse2(tokens) {
            options.rejected = true;
            cx.push(e);
        }
        options
    }

    fn option(&mut self, key: &str, meta: &ParseNestedMeta<'_>, cx: &Ctxt) -> syn::Result<()> {
        match key {
            "callback" => {
                self.callback = Some(meta.path.span());
                if meta.input.peek(Token![=]) || meta.input.peek(syn::token::Paren) {
                    cx.error(
                        meta.path.span(),
                        "`callback` takes no value: write `gauge(callback)` and register the callback at run time with `.register(...)`",
                    );
                    attr::skip_value(meta)?;
                }
            }
            "buckets" => match buckets::Spec::parse(&meta.value()?.parse()?) {
                Ok(spec) => self.buckets = Some(spec),
                Err(e) => {
                    self.rejected = true;
                    cx.push(e);
                }
            },
            "max_series" => self.max_series = Some(meta.value()?.parse()?),
            _ => self.unit = Some(meta.value()?.parse()?),
        }
        Ok(())
    }
}
