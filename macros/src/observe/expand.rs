//! Expansion step of `#[observe]`: prints the checked model; nothing here can fail.
//!
//! The user's body is kept as tokens and moved, unchanged, into a closure (or an `async move` block for
//! `async fn`) whose output type is pinned to the declared return type, so `?`, early `return` and type
//! errors behave exactly as they would without the attribute. A drop guard records the call: on normal
//! return with the classified result, on unwind as `error`, on a dropped future as `cancelled`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ImplItem, ItemFn};

use super::valid::{BUILTIN_LABELS, FnLabel, Function, Labels, Metric, Observed};
use crate::decl::Decl;
use crate::names::Kind;
use crate::ty;

pub(crate) fn expand(observed: Observed) -> TokenStream {
    match observed {
        Observed::Unchanged(f) => quote!(#f),
        Observed::Fn(f) => function(&f),
        Observed::Impl { mut item, methods } => {
            for (index, f) in methods {
                item.items[index] = ImplItem::Verbatim(function(&f));
            }
            quote!(#item)
        }
    }
}

fn function(func: &Function) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        modifiers,
        sig,
        block,
    } = &func.f;
    let defaultness = &modifiers.defaultness;
    let krate = &func.krate;
    let private = quote!(#krate::__private);
    let is_async = sig.asyncness.is_some();
    let (function, self_type) = match &func.label {
        FnLabel::Static(s) => (s, quote!(::core::option::Option::None)),
        FnLabel::SelfType(m) => (
            m,
            quote!(::core::option::Option::Some(
                ::core::any::type_name::<Self>()
            )),
        ),
    };
    let decls = Decls::new(func, function);
    let (site_labels, static_values, start) = start(func, &self_type);
    let output = ty::pinned_output(&sig.output);
    let call = if is_async {
        quote!(#private::pin_output::<#output, _>(async move #block))
    } else {
        quote!(#private::call::<#output, _>(move || #block))
    };
    // With `span`, the body runs in the call's span, which ends with the call's outcome.
    let (span_start, call, span_finish) = match &func.span {
        None if is_async => (quote!(), quote!(#call.await), quote!()),
        None => (quote!(), call, quote!()),
        Some(parent) => {
            let line = quote_spanned!(sig.ident.span()=> ::core::line!());
            let start = match parent {
                None => quote!(__MVI_SPAN.start(#self_type)),
                Some(p) => quote_spanned!(p.span()=> __MVI_SPAN.start_from(#self_type, #p)),
            };
            let call = if is_async {
                quote!(__mvi_span.run(#call).await)
            } else {
                quote!(__mvi_span.in_scope(|| #call))
            };
            (
                quote! {
                    static __MVI_SPAN: #private::SpanSite =
                        #private::SpanSite::new(&__MVI_SITE, ::core::file!(), #line);
                    let mut __mvi_span = #start;
                },
                call,
                quote! {
                    __mvi_span.finish(__mvi_outcome, (&#private::Classify(&__mvi_ret)).__mvi_error_type());
                },
            )
        }
    };
    let outcome = match &func.error_if {
        Some(pred) => quote_spanned! {pred.span()=>
            if (#pred)(&__mvi_ret) { #private::Outcome::Error } else { #private::Outcome::Ok }
        },
        None => quote!((&#private::Classify(&__mvi_ret)).__mvi_outcome()),
    };
    let Decls {
        statics,
        calls,
        duration,
        concurrent,
    } = decls;
    quote! {
        #(#attrs)*
        #vis #defaultness #sig {
            #[allow(unused_imports)]
            use #private::{ClassifyAny as _, ClassifyResult as _, StartLabelled as _, StartUnlabelled as _};
            #statics
            static __MVI_SITE: #private::Site = #private::Site::new(#private::SiteInfo {
                calls: #calls,
                duration: #duration,
                concurrent: #concurrent,
                function: #function,
                module: ::core::module_path!(),
                labels: #site_labels,
                static_values: &[#(#static_values),*],
                is_async: #is_async,
            });
            #span_start
            let __mvi_guard = { #start };
            let __mvi_ret = #call;
            let __mvi_outcome = #outcome;
            #span_finish
            __mvi_guard.finish(__mvi_outcome);
            __mvi_ret
        }
    }
}

/// The catalog entries of one function, and the `Option<&'static MetricDecl>` of each metric.
struct Decls {
    statics: TokenStream,
    calls: TokenStream,
    duration: TokenStream,
    concurrent: TokenStream,
}

impl Decls {
    fn new(func: &Function, function: &str) -> Decls {
        let krate = &func.krate;
        let private = quote!(#krate::__private);
        let span = func.f.sig.ident.span();
        let (literal, typed_labels, typed_values) = match &func.labels {
            Labels::Typed { ty, .. } => (
                &[][..],
                quote!(<#ty as #private::Labels>::NAMES),
                quote!(<#ty as #private::Labels>::VALUES),
            ),
            Labels::Args { literal, read } => {
                // Labels read per call come after the literal ones, with each one's closed value set
                // when the catalog can name its type (an argument of an enum type, `bool`), so their
                // zero series exist from the first scrape.
                let names = read.iter().map(|l| &l.name);
                let values = read.iter().map(|l| match &l.ty {
                    Some(ty) => quote!(<#ty as #private::LabelValue>::VALUES),
                    None => quote!(::core::option::Option::None),
                });
                (
                    &literal[..],
                    quote!(&[#(#names),*]),
                    quote!(&[#(#values),*]),
                )
            }
        };
        let literal_values: Vec<&str> = literal.iter().map(|(_, v)| v.as_str()).collect();
        let results: &[&str] = if func.f.sig.asyncness.is_some() {
            &["ok", "error", "cancelled"]
        } else {
            &["ok", "error"]
        };
        let static_series = matches!(func.label, FnLabel::Static(_));
        let mut statics = TokenStream::new();
        let mut decl = |metric: &Option<Metric>, kind: Kind, ident: &str| {
            let Some(m) = metric else {
                return quote!(::core::option::Option::None);
            };
            let ident = format_ident!("{}", ident, span = span);
            let mut labels: Vec<&str> = BUILTIN_LABELS[..2].to_vec();
            if kind == Kind::Counter {
                labels.push("result");
            }
            labels.extend(literal.iter().map(|(name, _)| name.as_str()));
            let series = match kind {
                _ if !static_series => Vec::new(),
                Kind::Counter => results
                    .iter()
                    .map(|r| quote!(&[#function, ::core::module_path!(), #r, #(#literal_values),*]))
                    .collect(),
                _ => vec![quote!(&[#function, ::core::module_path!(), #(#literal_values),*])],
            };
            let decl = Decl {
                krate,
                ident: ident.clone(),
                span: m.span,
                name: &m.name,
                kind,
                help: &m.help,
                labels,
                typed_labels: typed_labels.clone(),
                typed_values: typed_values.clone(),
                buckets: m.buckets.as_deref(),
                max_series: func.max_series,
                series,
                function,
            };
            statics.extend(quote!(#decl));
            quote!(::core::option::Option::Some(&#ident))
        };
        let calls = decl(&func.counter, Kind::Counter, "__MVI_CALLS");
        let duration = decl(&func.histogram, Kind::DurationHistogram, "__MVI_DURATION");
        let concurrent = decl(&func.concurrency, Kind::Gauge, "__MVI_CONCURRENT");
        Decls {
            statics,
            calls,
            duration,
            concurrent,
        }
    }
}

/// The label names of the call site, its compile-time values, and the expression that starts a call.
fn start(func: &Function, self_type: &TokenStream) -> (TokenStream, Vec<String>, TokenStream) {
    let krate = &func.krate;
    let private = quote!(#krate::__private);
    match &func.labels {
        Labels::Typed { expr, ty } => {
            let builtin = BUILTIN_LABELS;
            let check = quote_spanned! {expr.span()=>
                const _: () = #private::assert_no_builtin(<#ty as #private::Labels>::NAMES, &[#(#builtin),*]);
            };
            (
                quote!(<#ty as #private::Labels>::NAMES),
                Vec::new(),
                quote! {
                    #check
                    (&#private::WithLabels(&(#expr))).__mvi_start(&__MVI_SITE, #self_type)
                },
            )
        }
        Labels::Args { literal, read } => {
            let names = literal
                .iter()
                .map(|(n, _)| n)
                .chain(read.iter().map(|l| &l.name));
            let site_labels = quote!(&[#(#names),*]);
            let values = literal.iter().map(|(_, v)| v.clone()).collect();
            if read.is_empty() {
                return (site_labels, values, quote!(__MVI_SITE.start(#self_type)));
            }
            // Each value is bound once, to a name spanned on the user's expression, so that a type
            // without `LabelValue` is reported there; a value whose type the catalog names is checked
            // there, at the argument's type, instead.
            let vars: Vec<_> = read
                .iter()
                .enumerate()
                .map(|(i, l)| format_ident!("__mvi_label_{}", i, span = l.value.span()))
                .collect();
            let bind = read.iter().zip(&vars).map(|(l, var)| {
                let value = &l.value;
                let check =
                    l.ty.is_none()
                        .then(|| quote!(#private::check_label_value(#var);));
                quote! {
                    let #var = &(#value);
                    #check
                }
            });
            (
                site_labels,
                values,
                quote! {
                    #(#bind)*
                    (&#private::WithLabels(&(#(#vars,)*))).__mvi_start(&__MVI_SITE, #self_type)
                },
            )
        }
    }
}
