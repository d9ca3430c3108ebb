//! `#[derive(LabelValue)]` and `#[derive(Labels)]`: parse, validate, expand.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, LitStr, Path};

use crate::ctxt::Ctxt;
use crate::names;
use crate::observe::{skip_value, unknown_key};

/// `#[label(...)]` options on a container, variant or field.
#[derive(Default)]
struct LabelAttr {
    rename: Option<LitStr>,
    name: Option<LitStr>,
    krate: Option<Path>,
}

/// Reads every `#[label(...)]` on an item; `allowed` are the keys valid in that position.
fn label_attr(attrs: &[syn::Attribute], allowed: &[&str], cx: &Ctxt) -> LabelAttr {
    let mut out = LabelAttr::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("label")) {
        let result = attr.parse_nested_meta(|meta| {
            let key = crate::observe::path_key(&meta.path);
            if !allowed.contains(&key.as_str()) {
                cx.error(meta.path.span(), unknown_key(&key, allowed));
                return skip_value(&meta);
            }
            let slot_given = match key.as_str() {
                "rename" => out.rename.is_some(),
                "name" => out.name.is_some(),
                _ => out.krate.is_some(),
            };
            if slot_given {
                cx.error(meta.path.span(), format!("`{key}` given twice"));
            }
            let value = meta.value()?;
            match key.as_str() {
                "rename" => out.rename = Some(value.parse()?),
                "name" => out.name = Some(value.parse()?),
                _ => {
                    out.krate = Some(if value.peek(LitStr) {
                        value.parse::<LitStr>()?.parse()?
                    } else {
                        value.parse()?
                    })
                }
            }
            Ok(())
        });
        if let Err(e) = result {
            cx.push(e);
        }
    }
    out
}

fn krate(attr: &LabelAttr) -> Path {
    attr.krate
        .clone()
        .unwrap_or_else(|| syn::parse_quote!(::mvi))
}

fn first_token_span(tokens: impl quote::ToTokens) -> Span {
    tokens
        .into_token_stream()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |t| t.span())
}

pub(crate) fn derive_label_value(input: DeriveInput) -> syn::Result<TokenStream> {
    let cx = Ctxt::default();
    let container = label_attr(&input.attrs, &["crate"], &cx);
    let krate = krate(&container);
    let ident = &input.ident;
    let data = match &input.data {
        Data::Enum(data) => data,
        Data::Struct(s) => {
            cx.error(
                s.struct_token.span,
                "`#[derive(LabelValue)]` is for enums without fields; for a struct of labels use `#[derive(mvi::Labels)]`",
            );
            return cx.check().map(|()| TokenStream::new());
        }
        Data::Union(u) => {
            cx.error(
                u.union_token.span,
                "`#[derive(LabelValue)]` is for enums without fields",
            );
            return cx.check().map(|()| TokenStream::new());
        }
    };
    if !input.generics.params.is_empty() {
        cx.error(
            input.generics.span(),
            "a `LabelValue` enum cannot be generic",
        );
    }
    if data.variants.is_empty() {
        cx.error(
            ident.span(),
            "a `LabelValue` enum needs at least one variant",
        );
    }
    let mut values: Vec<String> = Vec::new();
    let mut arms = Vec::new();
    let mut index_arms = Vec::new();
    for (i, variant) in data.variants.iter().enumerate() {
        if !matches!(variant.fields, Fields::Unit) {
            cx.error(
                variant.fields.span(),
                format!(
                    "variant `{}` has fields; a `LabelValue` enum has only unit variants, so its values are a closed set",
                    variant.ident
                ),
            );
        }
        let attr = label_attr(&variant.attrs, &["rename"], &cx);
        let value = match &attr.rename {
            Some(lit) => {
                if lit.value().is_empty() {
                    cx.error(lit.span(), "label value is empty");
                }
                lit.value()
            }
            None => names::to_snake_case(&variant.ident.to_string()),
        };
        if values.contains(&value) {
            let span = attr
                .rename
                .as_ref()
                .map_or_else(|| variant.ident.span(), LitStr::span);
            cx.error(span, format!("label value `{value}` given twice"));
        }
        let v = &variant.ident;
        arms.push(quote!(Self::#v => #value));
        index_arms.push(quote!(Self::#v => #i));
        values.push(value);
    }
    cx.check()?;
    Ok(quote! {
        const _: () = {
            #[automatically_derived]
            impl #krate::LabelValue for #ident {
                const VALUES: ::core::option::Option<&'static [&'static str]> =
                    ::core::option::Option::Some(&[#(#values),*]);

                #[inline]
                fn label_value(&self) -> #krate::LabelStr<'_> {
                    #krate::LabelStr::borrowed(match self { #(#arms,)* })
                }

                #[inline]
                fn label_index(&self) -> usize {
                    match self { #(#index_arms,)* }
                }
            }
        };
    })
}

pub(crate) fn derive_labels(input: DeriveInput) -> syn::Result<TokenStream> {
    let cx = Ctxt::default();
    let container = label_attr(&input.attrs, &["crate"], &cx);
    let krate = krate(&container);
    let ident = &input.ident;
    let fields = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(named) => &named.named,
            other => {
                let span = if matches!(other, Fields::Unit) {
                    ident.span()
                } else {
                    other.span()
                };
                cx.error(span, "`#[derive(Labels)]` needs a struct with named fields: each field name is a label name");
                return cx.check().map(|()| TokenStream::new());
            }
        },
        Data::Enum(e) => {
            cx.error(
                e.enum_token.span,
                "`#[derive(Labels)]` is for structs with named fields; for an enum of label values use `#[derive(mvi::LabelValue)]`",
            );
            return cx.check().map(|()| TokenStream::new());
        }
        Data::Union(u) => {
            cx.error(
                u.union_token.span,
                "`#[derive(Labels)]` is for structs with named fields",
            );
            return cx.check().map(|()| TokenStream::new());
        }
    };
    if fields.is_empty() {
        cx.error(ident.span(), "a `Labels` struct needs at least one field");
    }
    let mut label_names: Vec<String> = Vec::new();
    for field in fields {
        let attr = label_attr(&field.attrs, &["name"], &cx);
        let field_ident = field.ident.as_ref().expect("named field");
        let (name, span) = match &attr.name {
            Some(lit) => (lit.value(), lit.span()),
            None => (
                field_ident.to_string().trim_start_matches("r#").to_string(),
                field_ident.span(),
            ),
        };
        if let Err(v) = names::check_label_name(&name, &[]) {
            cx.error(span, v.render());
        } else if label_names.contains(&name) {
            cx.error(span, format!("label `{name}` given twice"));
        }
        label_names.push(name);
    }
    cx.check()?;

    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let lv = quote!(#krate::LabelValue);
    let values = fields.iter().map(|f| {
        let ty = &f.ty;
        quote_spanned!(first_token_span(ty)=> <#ty as #lv>::VALUES)
    });
    let index_steps = fields.iter().map(|f| {
        let (ty, name) = (&f.ty, &f.ident);
        quote!(index = index * <#ty as #lv>::VALUES.map_or(1, <[_]>::len) + <#ty as #lv>::label_index(&self.#name);)
    });
    let value_exprs = fields.iter().map(|f| {
        let (ty, name) = (&f.ty, &f.ident);
        quote!(&*<#ty as #lv>::label_value(&self.#name))
    });
    Ok(quote! {
        const _: () = {
            #[automatically_derived]
            impl #impl_generics #krate::Labels for #ident #ty_generics #where_clause {
                const NAMES: &'static [&'static str] = &[#(#label_names),*];
                const VALUES: &'static [::core::option::Option<&'static [&'static str]>] = &[#(#values),*];

                #[inline]
                fn index(&self) -> usize {
                    let mut index = 0usize;
                    #(#index_steps)*
                    index
                }

                #[inline]
                fn with_values<__MviR>(&self, f: impl ::core::ops::FnOnce(&[&str]) -> __MviR) -> __MviR {
                    f(&[#(#value_exprs),*])
                }
            }
        };
    })
}
