//! Attribute helpers every macro shares: keys (unknown ones with a did-you-mean, repeated ones), skipping
//! a rejected value, `crate = path`, spans.

use proc_macro2::{Span, TokenStream};
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Expr, LitStr, Path};

use crate::ctxt::Ctxt;

/// The keys one attribute (or one parenthesised group of it) accepts, and those it has seen.
pub(crate) struct Keys {
    valid: &'static [&'static str],
    seen: Vec<&'static str>,
}

impl Keys {
    pub(crate) fn new(valid: &'static [&'static str]) -> Keys {
        Keys {
            valid,
            seen: Vec::new(),
        }
    }

    /// The key of `meta` when it is valid and new. An unknown key (with the valid ones and a likely
    /// typo) or a repeated one is reported to `cx` and its value skipped, so parsing goes on: `None`.
    pub(crate) fn accept(
        &mut self,
        meta: &ParseNestedMeta<'_>,
        cx: &Ctxt,
    ) -> syn::Result<Option<&'static str>> {
        let key = path_key(&meta.path);
        let span = meta.path.span();
        let Some(&known) = self.valid.iter().find(|k| **k == key) else {
            cx.error(span, unknown_key(&key, self.valid));
            skip_value(meta)?;
            return Ok(None);
        };
        if self.seen.contains(&known) {
            cx.error(span, format!("`{known}` given twice"));
            skip_value(meta)?;
            return Ok(None);
        }
        self.seen.push(known);
        Ok(Some(known))
    }
}

/// Consumes `= value` or `(...)` after a key that was rejected, so parsing can go on.
pub(crate) fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        meta.value()?.parse::<Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in meta.input);
        content.parse::<TokenStream>()?;
    }
    Ok(())
}

/// A key as written, without `r#`: `buckets`, `type`, `a::b`.
pub(crate) fn path_key(path: &Path) -> String {
    match path.get_ident() {
        Some(ident) => ident_name(ident),
        None => quote::quote!(#path).to_string().replace(' ', ""),
    }
}

/// An identifier as a name: `r#type` is `type`.
pub(crate) fn ident_name(ident: &syn::Ident) -> String {
    ident.to_string().trim_start_matches("r#").to_string()
}

/// ``unknown option `bukets`; did you mean `buckets`? expected one of `buckets`, `name`, `help` ``
pub(crate) fn unknown_key(key: &str, valid: &[&str]) -> String {
    let list = valid
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match closest(key, valid) {
        Some(s) => format!("unknown option `{key}`; did you mean `{s}`? expected one of {list}"),
        None => format!("unknown option `{key}`; expected one of {list}"),
    }
}

/// The closest of `candidates` to `word`, if it is close enough to be a likely typo. Distance is
/// optimal string alignment, so a swap of two letters (`nmae`) is one edit.
pub(crate) fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::osa_distance(word, c), *c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// The value of `crate = path` or `crate = "path"`: where the user's code reaches `mvi` when the
/// dependency is renamed.
pub(crate) fn crate_path(meta: &ParseNestedMeta<'_>) -> syn::Result<Path> {
    let value = meta.value()?;
    if value.peek(LitStr) {
        value.parse::<LitStr>()?.parse()
    } else {
        value.parse()
    }
}

/// `crate = ...` if given, else `::mvi`.
pub(crate) fn krate(given: Option<Path>) -> Path {
    given.unwrap_or_else(|| syn::parse_quote!(::mvi))
}

/// The span of the first token of `tokens`: the keyword of an item, the start of a type.
pub(crate) fn first_token_span(tokens: impl quote::ToTokens) -> Span {
    tokens
        .into_token_stream()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |t| t.span())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_finds_typos_only() {
        assert_eq!(
            closest("bukets", &["buckets", "name", "help"]),
            Some("buckets")
        );
        assert_eq!(closest("zzz", &["buckets", "name", "help"]), None);
        assert_eq!(closest("nmae", &["name", "help"]), Some("name"));
        assert_eq!(
            closest("conuter", &["counter", "histogram"]),
            Some("counter")
        );
    }

    #[test]
    fn unknown_key_lists_the_valid_ones() {
        assert_eq!(
            unknown_key("bukets", &["buckets", "name"]),
            "unknown option `bukets`; did you mean `buckets`? expected one of `buckets`, `name`"
        );
        assert_eq!(
            unknown_key("zzz", &["name"]),
            "unknown option `zzz`; expected one of `name`"
        );
    }

    #[test]
    fn keys_without_raw_prefix() {
        assert_eq!(path_key(&syn::parse_quote!(r#type)), "type");
        assert_eq!(path_key(&syn::parse_quote!(a::b)), "a::b");
    }
}
