//! Parse step of the label derives: the input's shape and its `#[label(...)]` attributes, with the syn
//! nodes kept for spans. A shape the derive cannot take is reported here.

use syn::{Data, DeriveInput, Fields, Generics, Ident, LitStr, Path, Type};

use super::attr::{CONTAINER_KEYS, FIELD_KEYS, LabelAttr, VARIANT_KEYS};
use crate::ctxt::Ctxt;

/// The input of `#[derive(LabelValue)]`.
pub(crate) struct Enum<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) generics: &'a Generics,
    pub(crate) krate: Option<Path>,
    pub(crate) variants: Vec<Variant<'a>>,
}

pub(crate) struct Variant<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) fields: &'a Fields,
    pub(crate) rename: Option<LitStr>,
}

/// The input of `#[derive(Labels)]`.
pub(crate) struct Struct<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) generics: &'a Generics,
    pub(crate) krate: Option<Path>,
    pub(crate) fields: Vec<Field<'a>>,
}

pub(crate) struct Field<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) ty: &'a Type,
    pub(crate) name: Option<LitStr>,
}

impl<'a> Enum<'a> {
    pub(crate) fn from_syn(input: &'a DeriveInput, cx: &Ctxt) -> Option<Enum<'a>> {
        let krate = LabelAttr::parse(&input.attrs, CONTAINER_KEYS, cx).krate;
        let data = match &input.data {
            Data::Enum(data) => data,
            Data::Struct(s) => {
                cx.error(
                    s.struct_token.span,
                    "`#[derive(LabelValue)]` is for enums without fields; for a struct of labels use `#[derive(mvi::Labels)]`",
                );
                return None;
            }
            Data::Union(u) => {
                cx.error(
                    u.union_token.span,
                    "`#[derive(LabelValue)]` is for enums without fields",
                );
                return None;
            }
        };
        let variants = data
            .variants
            .iter()
            .map(|v| Variant {
                ident: &v.ident,
                fields: &v.fields,
                rename: LabelAttr::parse(&v.attrs, VARIANT_KEYS, cx).rename,
            })
            .collect();
        Some(Enum {
            ident: &input.ident,
            generics: &input.generics,
            krate,
            variants,
        })
    }
}

impl<'a> Struct<'a> {
    pub(crate) fn from_syn(input: &'a DeriveInput, cx: &Ctxt) -> Option<Struct<'a>> {
        let krate = LabelAttr::parse(&input.attrs, CONTAINER_KEYS, cx).krate;
        const NAMED: &str =
            "`#[derive(Labels)]` needs a struct with named fields: each field name is a label name";
        let fields = match &input.data {
            Data::Struct(s) => match &s.fields {
                Fields::Named(named) => &named.named,
                Fields::Unit => {
                    cx.error(input.ident.span(), NAMED);
                    return None;
                }
                unnamed @ Fields::Unnamed(_) => {
                    cx.error(syn::spanned::Spanned::span(unnamed), NAMED);
                    return None;
                }
            },
            Data::Enum(e) => {
                cx.error(
                    e.enum_token.span,
                    "`#[derive(Labels)]` is for structs with named fields; for an enum of label values use `#[derive(mvi::LabelValue)]`",
                );
                return None;
            }
            Data::Union(u) => {
                cx.error(
                    u.union_token.span,
                    "`#[derive(Labels)]` is for structs with named fields",
                );
                return None;
            }
        };
        let fields = fields
            .iter()
            .map(|f| Field {
                ident: f.ident.as_ref().expect("named field"),
                ty: &f.ty,
                name: LabelAttr::parse(&f.attrs, FIELD_KEYS, cx).name,
            })
            .collect();
        Some(Struct {
            ident: &input.ident,
            generics: &input.generics,
            krate,
            fields,
        })
    }
}
