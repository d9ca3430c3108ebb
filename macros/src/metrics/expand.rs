//! Expansion step of `mvi::metrics!`: prints the checked model; nothing here can fail.
//!
//! Each metric becomes a `static` of a type of its own (`ITEMS_SOLD: ItemsSoldMetric`) whose catalog
//! entry is declared inside its initialiser, and whose methods take the label values as typed
//! arguments, in declaration order: a wrong number or type of values is a compile error at the call.
//! A label declared `String` is taken as `&str`, so a call never allocates.

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};
use syn::{Ident, Path, Type};

use super::valid::{Checked, Label, Metric};
use crate::attr::ident_name;
use crate::decl::Decl;
use crate::names::Kind;
use crate::ty;

pub(crate) fn expand(checked: &Checked) -> TokenStream {
    checked
        .metrics
        .iter()
        .map(|m| metric(&checked.krate, m))
        .collect()
}

fn metric(krate: &Path, m: &Metric) -> TokenStream {
    let private = quote!(#krate::__private);
    let Metric {
        attrs, vis, ident, ..
    } = m;
    let ty = format_ident!(
        "{}Metric",
        camel_case(&ident_name(ident)),
        span = ident.span()
    );
    let runtime = match (m.kind, m.callback) {
        (Kind::Counter, _) => quote!(#private::declared::Counter),
        (Kind::Gauge, false) => quote!(#private::declared::Gauge),
        (Kind::Gauge, true) => quote!(#private::declared::CallbackGauge),
        (Kind::DurationHistogram | Kind::ValueHistogram, _) => {
            quote!(#private::declared::Histogram)
        }
    };
    let decl = decl(krate, m);
    // Spanned on the static's name, where a method not found on it is reported.
    let strukt = respan(quote!(#vis struct #ty(#runtime);), ident.span());
    let cfgs: Vec<_> = attrs.iter().filter(|a| a.path().is_ident("cfg")).collect();
    let (what, methods) = methods(&private, m);
    let labels = match &m.labels[..] {
        [] => String::new(),
        labels => format!(
            " with the label{} {}",
            if labels.len() == 1 { "" } else { "s" },
            labels
                .iter()
                .map(|l| format!("`{}`", l.name))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let static_doc = format!("`{}`: {what}{labels}.", m.name);
    let type_doc = format!(
        "The type of [`{ident}`]: `{}`, {what}{labels}, declared with `mvi::metrics!`.",
        m.name
    );
    quote! {
        #(#attrs)*
        #[doc = ""]
        #[doc = #static_doc]
        #vis static #ident: #ty = #ty(#runtime::new({ #decl &__MVI_DECL }));

        #(#cfgs)*
        #[doc = #type_doc]
        #[allow(dead_code, unreachable_pub)]
        #strukt

        #(#cfgs)*
        #[allow(dead_code, unreachable_pub)]
        impl #ty {
            #methods
        }

        #(#cfgs)*
        impl ::core::fmt::Debug for #ty {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::core::fmt::Debug::fmt(&self.0, f)
            }
        }
    }
}

/// The catalog entry, a `static` named `__MVI_DECL` for the initialiser's block to refer to.
fn decl(krate: &Path, m: &Metric) -> TokenStream {
    let private = quote!(#krate::__private);
    let names = m.labels.iter().map(|l| &l.name);
    // Each label type is named here, once: a type that is not a `LabelValue` is reported at it.
    let values = m.labels.iter().map(|l| {
        let value = ty::strip_refs(&l.ty);
        quote!(<#value as #private::LabelValue>::VALUES)
    });
    let function = ident_name(&m.ident);
    let decl = Decl {
        krate,
        ident: Ident::new("__MVI_DECL", Span::call_site()),
        span: m.name_span,
        name: &m.name,
        kind: m.kind,
        help: &m.help,
        labels: Vec::new(),
        typed_labels: quote!(&[#(#names),*]),
        typed_values: quote!(&[#(#values),*]),
        buckets: m.buckets.as_deref(),
        max_series: m.max_series,
        // One series per combination of closed label values, made at install; none for a gauge read
        // at scrape time, whose callback says which series exist.
        series: if m.callback {
            Vec::new()
        } else {
            vec![quote!(&[])]
        },
        function: &function,
    };
    let mut tokens = TokenStream::new();
    decl.to_tokens_with_unit(&m.unit, &mut tokens);
    tokens
}

/// What the metric is, in words, and the methods of its type.
///
/// A method's signature is spanned on the static's name, and each label parameter on its declaration,
/// so a call with the wrong values points there.
fn methods(private: &TokenStream, m: &Metric) -> (&'static str, TokenStream) {
    let span = m.ident.span();
    let vis = &m.vis;
    let labels = &m.labels;
    let params: Vec<TokenStream> = labels
        .iter()
        .map(|l| {
            let (ident, ty) = (&l.ident, param_type(l));
            quote!(#ident: #ty)
        })
        .collect();
    let args: Vec<&Ident> = labels.iter().map(|l| &l.ident).collect();
    // The label values as a label set: through the autoref specialisation of `LabelsOf`/`NotLabels`,
    // whose traits `traits` brings into scope.
    let set = if labels.is_empty() {
        quote!(&#private::declared::Unlabelled)
    } else {
        let refs = labels.iter().map(|l| {
            let ident = &l.ident;
            if matches!(param_type(l), Type::Reference(_)) {
                quote!(#ident)
            } else {
                quote!(&#ident)
            }
        });
        quote!((&#private::WithLabels(&(#(#refs,)*))).__mvi_labels())
    };
    let traits = quote! {
        #[allow(unused_imports)]
        use #private::declared::{LabelsOf as _, NotLabels as _};
    };
    // Arguments of the method's own, named unlike any label.
    let own = |word: &str| {
        if labels.iter().any(|l| l.ident == word) {
            format_ident!("__mvi_{}", word, span = span)
        } else {
            format_ident!("{}", word, span = span)
        }
    };
    let (n, value, read) = (own("n"), own("value"), own("read"));
    let method = |name: &str, doc: &str, first: Option<TokenStream>, body: TokenStream| {
        let doc = doc.replace("NAME", &format!("`{}`", m.name));
        let name = Ident::new(name, span);
        let first = first.map(|f| quote_spanned!(span=> #f,));
        let sig = quote_spanned!(span=> #vis fn #name(&self, #first #(#params),*));
        quote! {
            #[doc = #doc]
            #[inline]
            #sig {
                #body
            }
        }
    };
    match (m.kind, m.callback) {
        (Kind::Counter, _) => {
            let methods = [
                method(
                    "inc",
                    "Adds 1 to NAME for these label values.",
                    None,
                    quote!(self.add(1, #(#args),*)),
                ),
                method(
                    "add",
                    "Adds `n` to NAME for these label values.",
                    Some(quote!(#n: u64)),
                    quote!(#traits self.0.add(#n, #set)),
                ),
            ];
            ("a counter", quote!(#(#methods)*))
        }
        (Kind::Gauge, false) => {
            let methods = [
                method(
                    "set",
                    "Sets NAME for these label values to `value`.",
                    Some(quote!(#value: f64)),
                    quote!(#traits self.0.set(#value, #set)),
                ),
                method(
                    "inc",
                    "Adds 1 to NAME for these label values.",
                    None,
                    quote!(self.add(1.0, #(#args),*)),
                ),
                method(
                    "dec",
                    "Subtracts 1 from NAME for these label values.",
                    None,
                    quote!(self.sub(1.0, #(#args),*)),
                ),
                method(
                    "add",
                    "Adds `value` to NAME for these label values.",
                    Some(quote!(#value: f64)),
                    quote!(#traits self.0.increment(#value, #set)),
                ),
                method(
                    "sub",
                    "Subtracts `value` from NAME for these label values.",
                    Some(quote!(#value: f64)),
                    quote!(#traits self.0.decrement(#value, #set)),
                ),
            ];
            ("a gauge", quote!(#(#methods)*))
        }
        (Kind::Gauge, true) => {
            let doc = format!(
                "Makes `read` the callback that reports `{}` at each scrape, replacing the one \
                 registered before. It is called with a function to call once per label set, with the \
                 value and the label values in declaration order; only the label sets it reports are \
                 exported. Scrapes call it one at a time.",
                m.name
            );
            let types = labels.iter().map(param_type);
            let sig = quote_spanned! {span=>
                #vis fn register(
                    &'static self,
                    #read: impl ::core::ops::FnMut(&mut dyn ::core::ops::FnMut(f64, #(#types),*))
                        + ::core::marker::Send
                        + 'static,
                )
            };
            let methods = quote! {
                #[doc = #doc]
                #sig {
                    let mut #read = #read;
                    self.0.register(move |__mvi_emit: &mut dyn ::core::ops::FnMut(f64, &[&str])| {
                        #read(&mut |__mvi_value: f64, #(#params),*| {
                            #traits
                            #private::Labels::with_values(#set, |__mvi_values| {
                                __mvi_emit(__mvi_value, __mvi_values)
                            })
                        })
                    })
                }
            };
            ("a gauge read at each scrape", methods)
        }
        (Kind::DurationHistogram | Kind::ValueHistogram, _) => {
            let record = method(
                "record",
                "Records `value` in NAME for these label values.",
                Some(quote!(#value: f64)),
                quote!(#traits self.0.record(#value, #set)),
            );
            ("a histogram", record)
        }
    }
}

/// The type a method takes a label value as: as declared, but `&str` for `String`.
fn param_type(label: &Label) -> Type {
    if is_string(&label.ty) {
        syn::parse_quote!(&str)
    } else {
        label.ty.clone()
    }
}

/// `String`, however it is written.
fn is_string(ty: &Type) -> bool {
    match ty {
        Type::Path(p) if p.qself.is_none() => p
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "String" && s.arguments.is_none()),
        _ => false,
    }
}

/// `tokens` with every span set to `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tt| {
            if let TokenTree::Group(g) = &tt {
                let mut group = Group::new(g.delimiter(), respan(g.stream(), span));
                group.set_span(span);
                tt = TokenTree::Group(group);
            }
            tt.set_span(span);
            tt
        })
        .collect()
}

/// `ITEMS_SOLD` → `ItemsSold`.
fn camel_case(name: &str) -> String {
    name.split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + &chars.as_str().to_ascii_lowercase()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names() {
        assert_eq!(camel_case("ITEMS_SOLD"), "ItemsSold");
        assert_eq!(camel_case("stock"), "Stock");
        assert_eq!(camel_case("__ODD__NAME"), "OddName");
    }
}
