//! Validation step of the label derives: every rule on variants, values, fields and label names.

use syn::spanned::Spanned;
use syn::{Fields, Generics, Ident, LitStr, Path, Type};

use super::ast::{Enum, Struct};
use crate::ctxt::Ctxt;
use crate::names;

/// A checked `LabelValue` enum: each unit variant with its label value.
pub(crate) struct ValueSet<'a> {
    pub(crate) krate: Path,
    pub(crate) ident: &'a Ident,
    pub(crate) values: Vec<(&'a Ident, String)>,
}

/// A checked `Labels` struct: each field with its label name.
pub(crate) struct LabelSet<'a> {
    pub(crate) krate: Path,
    pub(crate) ident: &'a Ident,
    pub(crate) generics: &'a Generics,
    pub(crate) fields: Vec<(&'a Ident, &'a Type, String)>,
}

pub(crate) fn value_set<'a>(input: Enum<'a>, cx: &Ctxt) -> ValueSet<'a> {
    if !input.generics.params.is_empty() {
        cx.error(
            input.generics.span(),
            "a `LabelValue` enum cannot be generic",
        );
    }
    if input.variants.is_empty() {
        cx.error(
            input.ident.span(),
            "a `LabelValue` enum needs at least one variant",
        );
    }
    let mut values: Vec<(&Ident, String)> = Vec::new();
    for variant in input.variants {
        if !matches!(variant.fields, Fields::Unit) {
            cx.error(
                variant.fields.span(),
                format!(
                    "variant `{}` has fields; a `LabelValue` enum has only unit variants, so its values are a closed set",
                    variant.ident
                ),
            );
        }
        let value = match &variant.rename {
            Some(lit) => {
                if lit.value().is_empty() {
                    cx.error(lit.span(), "label value is empty");
                }
                lit.value()
            }
            None => names::to_snake_case(&variant.ident.to_string()),
        };
        if values.iter().any(|(_, v)| *v == value) {
            let span = variant
                .rename
                .as_ref()
                .map_or_else(|| variant.ident.span(), LitStr::span);
            cx.error(span, format!("label value `{value}` given twice"));
        }
        values.push((variant.ident, value));
    }
    ValueSet {
        krate: crate::attr::krate(input.krate),
        ident: input.ident,
        values,
    }
}

pub(crate) fn label_set<'a>(input: Struct<'a>, cx: &Ctxt) -> LabelSet<'a> {
    if input.fields.is_empty() {
        cx.error(
            input.ident.span(),
            "a `Labels` struct needs at least one field",
        );
    }
    let mut fields: Vec<(&Ident, &Type, String)> = Vec::new();
    for field in input.fields {
        let (name, span) = match &field.name {
            Some(lit) => (lit.value(), lit.span()),
            None => (crate::attr::ident_name(field.ident), field.ident.span()),
        };
        if let Err(v) = names::check_label_name(&name, &[]) {
            cx.error(span, v.render());
        } else if fields.iter().any(|(_, _, n)| *n == name) {
            cx.error(span, format!("label `{name}` given twice"));
        }
        fields.push((field.ident, field.ty, name));
    }
    LabelSet {
        krate: crate::attr::krate(input.krate),
        ident: input.ident,
        generics: input.generics,
        fields,
    }
}
