//! The one emitter of a catalog entry: a `static` `MetricDecl` in the runtime's link-time `CATALOG`.
//! Every macro that declares a metric fills a [`Decl`] and prints it.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::Path;

use crate::names::Kind;

/// One metric declaration, as `runtime/src/catalog.rs`'s `MetricDecl` has it.
pub(crate) struct Decl<'a> {
    pub(crate) krate: &'a Path,
    /// The `static`'s name: generated code refers to it as `&IDENT`.
    pub(crate) ident: Ident,
    /// Where the declaration is reported if it does not compile: the metric's name as written.
    pub(crate) span: Span,
    pub(crate) name: &'a str,
    pub(crate) kind: Kind,
    pub(crate) help: &'a str,
    /// Label names known to the macro, in order.
    pub(crate) labels: Vec<&'a str>,
    /// `MetricDecl::typed_labels` and `typed_values`: expressions, since a typed label set's names and
    /// values are constants of its `Labels` impl.
    pub(crate) typed_labels: TokenStream,
    pub(crate) typed_values: TokenStream,
    /// A histogram's buckets; `None` is the runtime's `DEFAULT_BUCKETS`. Ignored for other kinds.
    pub(crate) buckets: Option<&'a [f64]>,
    pub(crate) max_series: Option<usize>,
    /// Values of `labels` known at compile time, one expression (`&[...]`) per series.
    pub(crate) series: Vec<TokenStream>,
    /// The `function` of the location: the annotated function (`Type::method` for methods).
    pub(crate) function: &'a str,
}

impl ToTokens for Decl<'_> {
    /// The declaration with the unit its kind implies: `seconds` for a duration histogram.
    fn to_tokens(&self, tokens: &mut TokenStream) {
        let unit = match self.kind {
            Kind::DurationHistogram => "seconds",
            Kind::Counter | Kind::Gauge | Kind::ValueHistogram => "",
        };
        self.to_tokens_with_unit(unit, tokens);
    }
}

impl Decl<'_> {
    /// The declaration with this unit (`bytes`, `euros`, or empty).
    pub(crate) fn to_tokens_with_unit(&self, unit: &str, tokens: &mut TokenStream) {
        let Decl {
            krate,
            ident,
            span,
            name,
            kind,
            help,
            labels,
            typed_labels,
            typed_values,
            buckets,
            max_series,
            series,
            function,
        } = self;
        let private = quote!(#krate::__private);
        let kind = match kind {
            Kind::Counter => quote!(Counter),
            Kind::Gauge => quote!(Gauge),
            Kind::DurationHistogram | Kind::ValueHistogram => quote!(Histogram),
        };
        let buckets = match (self.kind, buckets) {
            (Kind::DurationHistogram | Kind::ValueHistogram, None) => {
                quote!(#private::DEFAULT_BUCKETS)
            }
            (Kind::DurationHistogram | Kind::ValueHistogram, Some(b)) => quote!(&[#(#b),*]),
            _ => quote!(&[]),
        };
        let max_series = match max_series {
            Some(n) => quote!(::core::option::Option::Some(#n)),
            None => quote!(::core::option::Option::None),
        };
        tokens.extend(quote_spanned! {*span=>
            #[#private::linkme::distributed_slice(#private::CATALOG)]
            #[linkme(crate = #private::linkme)]
            static #ident: #private::MetricDecl = #private::MetricDecl {
                name: #name,
                kind: #private::MetricKind::#kind,
                help: #help,
                unit: #unit,
                labels: &[#(#labels),*],
                typed_labels: #typed_labels,
                typed_values: #typed_values,
                buckets: #buckets,
                series: &[#(#series),*],
                max_series: #max_series,
                location: #private::Location {
                    file: ::core::file!(),
                    line: ::core::line!(),
                    column: ::core::column!(),
                    function: #function,
                    module: ::core::module_path!(),
                },
            };
        });
    }
}
