//! Code generation for `#[observe]`.
//!
//! The user's body is kept as tokens and moved, unchanged, into a closure (or an `async move` block for
//! `async fn`) whose output type is pinned to the declared return type, so `?`, early `return` and type
//! errors behave exactly as they would without the attribute. A drop guard records the call: on normal
//! return with the classified result, on unwind as `error`, on a dropped future as `cancelled`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{ImplItem, ItemFn, ItemImpl, ReturnType, Signature};

use super::attr::{self, BUILTIN_LABELS, Metric, Options};
use crate::buckets::DEFAULT_SECONDS;
use crate::ctxt::Ctxt;

/// How the `function` label is known.
enum FnLabel {
    /// Written out at compile time: `checkout` or `Cart::add`.
    Static(String),
    /// A lone method: the type comes from `type_name::<Self>()` at the first call.
    SelfType(String),
}

pub(crate) fn observe(args: TokenStream, item: TokenStream) -> TokenStream {
    let cx = Ctxt::default();
    let mut opts = Options::parse(args, &cx);
    let parsed: syn::Item = match syn::parse2(item.clone()) {
        Ok(item) => item,
        Err(e) => return with_error(item, e),
    };
    let out = match parsed {
        syn::Item::Fn(f) => {
            let name = attr::ident_label(&f.sig.ident);
            let label = if mentions_self(&f.sig) {
                FnLabel::SelfType(name)
            } else {
                FnLabel::Static(name)
            };
            check_fn(&f.sig, &cx);
            if let (Some((_, span)), true) = (
                opts.max_series,
                opts.labels.is_empty() && opts.typed_labels.is_none(),
            ) {
                cx.error(
                    span,
                    "`max_series` caps label sets, and this function has none: add `labels(...)` or remove it",
                );
            }
            opts.apply_defaults();
            if opts.skip {
                quote!(#f)
            } else {
                expand_fn(f, &opts, label, &cx)
            }
        }
        syn::Item::Impl(imp) => expand_impl(imp, opts, &cx),
        syn::Item::Verbatim(v) if v.to_string().contains("fn") => {
            cx.error(v.span(), "`#[observe]` needs a function body; put it on the `impl` instead of the trait declaration");
            v
        }
        other => {
            cx.error(
                item_span(&other),
                "`#[observe]` goes on a function, a method or an `impl` block",
            );
            quote!(#other)
        }
    };
    match cx.check() {
        Ok(()) => out,
        Err(e) => with_error(strip_inner_observe(item), e),
    }
}

/// On error: the user's item unchanged, so the rest of the crate still type-checks, plus the errors.
fn with_error(item: TokenStream, error: syn::Error) -> TokenStream {
    let errors = error.to_compile_error();
    quote!(#item #errors)
}

/// Inner `#[observe]` attributes of an `impl` are ours to read; leaving them would report errors twice.
fn strip_inner_observe(item: TokenStream) -> TokenStream {
    match syn::parse2::<ItemImpl>(item.clone()) {
        Ok(mut imp) => {
            for it in &mut imp.items {
                if let ImplItem::Fn(f) = it {
                    f.attrs.retain(|a| !attr::is_observe_attr(a));
                }
            }
            quote!(#imp)
        }
        Err(_) => item,
    }
}

fn item_span(item: &syn::Item) -> Span {
    let tokens = quote!(#item);
    tokens
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |t| t.span())
}

fn check_fn(sig: &Signature, cx: &Ctxt) {
    if let Some(c) = &sig.constness {
        cx.error(c.span, "`#[observe]` cannot instrument a `const fn`: recording metrics is not possible in const evaluation");
    }
}

fn expand_impl(mut imp: ItemImpl, outer: Options, cx: &Ctxt) -> TokenStream {
    let type_name = attr::type_label(&imp.self_ty);
    for item in &mut imp.items {
        let ImplItem::Fn(method) = item else { continue };
        let inner: Vec<syn::Attribute> = method
            .attrs
            .iter()
            .filter(|a| attr::is_observe_attr(a))
            .cloned()
            .collect();
        method.attrs.retain(|a| !attr::is_observe_attr(a));
        if inner.len() > 1 {
            let path = inner[1].path();
            let span = path.segments.last().map_or(path.span(), |s| s.ident.span());
            cx.error(span, "`#[observe]` given twice on this method");
        }
        let mut opts = match inner.first() {
            Some(a) => Options::parse(attr::attr_args(a), cx).merged_over(&outer),
            None => Options::parse(TokenStream::new(), cx).merged_over(&outer),
        };
        if opts.skip || outer.skip || method.sig.constness.is_some() {
            continue;
        }
        if inner.is_empty() {
            opts.labels = Vec::new();
        }
        opts.apply_defaults();
        let f = ItemFn {
            attrs: std::mem::take(&mut method.attrs),
            vis: method.vis.clone(),
            modifiers: method.modifiers.clone(),
            sig: method.sig.clone(),
            block: Box::new(method.block.clone()),
        };
        let label = FnLabel::Static(format!(
            "{}::{}",
            type_name,
            attr::ident_label(&f.sig.ident)
        ));
        let expanded = expand_fn(f, &opts, label, cx);
        *item = ImplItem::Verbatim(expanded);
    }
    for e in outer_label_errors(&outer) {
        cx.push(e);
    }
    quote!(#imp)
}

/// `labels(...)` name arguments of the methods, so they cannot apply to a whole `impl`.
fn outer_label_errors(outer: &Options) -> Vec<syn::Error> {
    outer
        .labels
        .iter()
        .map(|l| &l.value)
        .chain(&outer.typed_labels)
        .map(|value| {
            syn::Error::new(
                value.span(),
                "`labels(...)` on an `impl` block would apply to every method; put it on the method that has these arguments",
            )
        })
        .collect()
}

fn mentions_self(sig: &Signature) -> bool {
    struct Finder(bool);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_receiver(&mut self, _: &'ast syn::Receiver) {
            self.0 = true;
        }
        fn visit_path(&mut self, p: &'ast syn::Path) {
            if p.segments.first().is_some_and(|s| s.ident == "Self") {
                self.0 = true;
            }
            syn::visit::visit_path(self, p);
        }
    }
    let mut f = Finder(false);
    f.visit_signature(sig);
    f.0
}

fn contains_impl_trait(ty: &syn::Type) -> bool {
    struct Finder(bool);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_type_impl_trait(&mut self, _: &'ast syn::TypeImplTrait) {
            self.0 = true;
        }
    }
    let mut f = Finder(false);
    f.visit_type(ty);
    f.0
}

/// The output type to pin the wrapped body to; `_` where it cannot be named (`impl Trait`).
fn output_type(sig: &Signature) -> TokenStream {
    match &sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) if contains_impl_trait(ty) => quote!(_),
        ReturnType::Type(_, ty) => quote!(#ty),
    }
}

/// The value of a string-literal label (`labels(tier = "gold")`), known at compile time.
fn literal_str(expr: &syn::Expr) -> Option<String> {
    match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Some(s.value()),
        _ => None,
    }
}

/// The type behind `labels = x`: an argument's declared type, or a struct literal's path.
fn strip_refs(ty: &syn::Type) -> &syn::Type {
    match ty {
        syn::Type::Reference(r) => strip_refs(&r.elem),
        syn::Type::Paren(p) => strip_refs(&p.elem),
        syn::Type::Group(g) => strip_refs(&g.elem),
        other => other,
    }
}

/// The declared type (references stripped) of the argument named `ident`.
fn arg_type<'a>(ident: &syn::Ident, sig: &'a Signature) -> Option<&'a syn::Type> {
    sig.inputs.iter().find_map(|arg| match arg {
        syn::FnArg::Typed(t) => match &*t.pat {
            syn::Pat::Ident(pi) if pi.ident == *ident => Some(strip_refs(&t.ty)),
            _ => None,
        },
        syn::FnArg::Receiver(_) => None,
    })
}

/// Whether a type can be named in the `static` the macro declares inside the function: not `impl
/// Trait`, and no generic parameter of the function or `Self`, which statics cannot see.
fn nameable_in_static(ty: &syn::Type, sig: &Signature) -> bool {
    struct Finder<'a> {
        generics: Vec<&'a syn::Ident>,
        found: bool,
    }
    impl<'ast> Visit<'ast> for Finder<'_> {
        fn visit_ident(&mut self, i: &'ast syn::Ident) {
            if i == "Self" || self.generics.contains(&i) {
                self.found = true;
            }
        }
        fn visit_type_impl_trait(&mut self, _: &'ast syn::TypeImplTrait) {
            self.found = true;
        }
        fn visit_lifetime(&mut self, _: &'ast syn::Lifetime) {}
    }
    let generics = sig
        .generics
        .params
        .iter()
        .filter_map(|p| match p {
            syn::GenericParam::Type(t) => Some(&t.ident),
            syn::GenericParam::Const(c) => Some(&c.ident),
            syn::GenericParam::Lifetime(_) => None,
        })
        .collect();
    let mut finder = Finder {
        generics,
        found: false,
    };
    finder.visit_type(ty);
    !finder.found
}

/// The type of a `labels(key = expr)` value when `expr` is an argument (`arg`, `&arg`, `*arg`) whose
/// type the catalog can name: its `LabelValue::VALUES` then give the zero series at install.
fn read_label_type<'a>(expr: &syn::Expr, sig: &'a Signature) -> Option<&'a syn::Type> {
    match expr {
        syn::Expr::Path(p) => {
            arg_type(p.path.get_ident()?, sig).filter(|t| nameable_in_static(t, sig))
        }
        syn::Expr::Reference(r) => read_label_type(&r.expr, sig),
        syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => read_label_type(&u.expr, sig),
        syn::Expr::Paren(p) => read_label_type(&p.expr, sig),
        syn::Expr::Group(g) => read_label_type(&g.expr, sig),
        _ => None,
    }
}

fn typed_label_type(expr: &syn::Expr, sig: &Signature) -> syn::Result<syn::Type> {
    const HELP: &str = "`labels = ...` takes an argument of this function, or a struct literal, whose type derives `mvi::Labels`";
    match expr {
        syn::Expr::Path(p) if p.path.get_ident().is_some() => {
            let ident = p.path.get_ident().expect("checked above");
            match arg_type(ident, sig) {
                Some(ty) if !nameable_in_static(ty, sig) => Err(syn::Error::new(
                    ty.span(),
                    "`labels = ...` needs a concrete type, not `impl Trait`, a generic parameter or `Self`: its label names are recorded in the catalog",
                )),
                Some(ty) => Ok(ty.clone()),
                None => Err(syn::Error::new(
                    ident.span(),
                    format!("`{ident}` is not an argument of this function; {HELP}"),
                )),
            }
        }
        syn::Expr::Struct(s) => Ok(syn::Type::Path(syn::TypePath {
            attrs: Vec::new(),
            qself: s.qself.clone(),
            path: s.path.clone(),
        })),
        other => Err(syn::Error::new(other.span(), HELP)),
    }
}

fn default_help(name: &str, kind: &str) -> String {
    match (name, kind) {
        (attr::DEFAULT_COUNTER, _) => "Calls of observed functions, by result.".into(),
        (attr::DEFAULT_HISTOGRAM, _) => {
            "Duration of calls of observed functions, in seconds.".into()
        }
        (attr::DEFAULT_GAUGE, _) => "Calls of observed functions in flight.".into(),
        (_, "counter") => "Calls, by result.".into(),
        (_, "histogram") => "Call duration, in seconds.".into(),
        _ => "Calls in flight.".into(),
    }
}

fn expand_fn(f: ItemFn, opts: &Options, label: FnLabel, cx: &Ctxt) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        modifiers,
        sig,
        block,
    } = f;
    let defaultness = &modifiers.defaultness;
    let krate = opts
        .krate
        .clone()
        .unwrap_or_else(|| syn::parse_quote!(::mvi));
    let span = sig.ident.span();
    let is_async = sig.asyncness.is_some();
    let (function, self_type) = match &label {
        FnLabel::Static(s) => (s.clone(), quote!(::core::option::Option::None)),
        FnLabel::SelfType(m) => (
            m.clone(),
            quote!(::core::option::Option::Some(
                ::core::any::type_name::<Self>()
            )),
        ),
    };
    let krate_labels = quote!(#krate::__private::Labels);
    let (literal, read): (Vec<&attr::Label>, Vec<&attr::Label>) = opts
        .labels
        .iter()
        .partition(|l| literal_str(&l.value).is_some());
    let literal_values: Vec<String> = literal
        .iter()
        .filter_map(|l| literal_str(&l.value))
        .collect();
    let user_labels: Vec<&str> = literal
        .iter()
        .chain(&read)
        .map(|l| l.name.as_str())
        .collect();
    let typed = opts
        .typed_labels
        .as_ref()
        .and_then(|e| match typed_label_type(e, &sig) {
            Ok(ty) => Some((e, ty)),
            Err(err) => {
                cx.push(err);
                None
            }
        });
    // Labels read per call are recorded after the literal ones, with each one's closed value set
    // when the catalog can name its type (an argument of an enum type, `bool`), so their zero series
    // exist from the first scrape.
    let read_types: Vec<Option<&syn::Type>> = read
        .iter()
        .map(|l| read_label_type(&l.value, &sig))
        .collect();
    let (typed_names, typed_values) = match &typed {
        Some((_, ty)) => (
            quote!(<#ty as #krate_labels>::NAMES),
            quote!(<#ty as #krate_labels>::VALUES),
        ),
        None => {
            let names = read.iter().map(|l| l.name.as_str());
            let values = read_types.iter().map(|ty| match ty {
                Some(ty) => quote!(<#ty as #krate::__private::LabelValue>::VALUES),
                None => quote!(::core::option::Option::None),
            });
            (quote!(&[#(#names),*]), quote!(&[#(#values),*]))
        }
    };
    let static_series = matches!(label, FnLabel::Static(_));
    let results: &[&str] = if is_async {
        &["ok", "error", "cancelled"]
    } else {
        &["ok", "error"]
    };

    let max_series = match opts.max_series {
        Some((n, _)) => quote!(::core::option::Option::Some(#n)),
        None => quote!(::core::option::Option::None),
    };
    let mut decls = Vec::new();
    let mut decl = |metric: &Option<Metric>, kind: &str, ident: &str| -> TokenStream {
        let Some(m) = metric else {
            return quote!(::core::option::Option::None);
        };
        let ident = format_ident!("{}", ident, span = span);
        let name = &m.name;
        let help = m.help.clone().unwrap_or_else(|| default_help(name, kind));
        let mut labels: Vec<&str> = BUILTIN_LABELS[..2].to_vec();
        if kind == "counter" {
            labels.push("result");
        }
        labels.extend(literal.iter().map(|l| l.name.as_str()));
        let series: Vec<TokenStream> = if !static_series {
            Vec::new()
        } else if kind == "counter" {
            results
                .iter()
                .map(|r| quote!(&[#function, ::core::module_path!(), #r, #(#literal_values),*]))
                .collect()
        } else {
            vec![quote!(&[#function, ::core::module_path!(), #(#literal_values),*])]
        };
        let kind_ident = format_ident!(
            "{}",
            match kind {
                "counter" => "Counter",
                "histogram" => "Histogram",
                _ => "Gauge",
            }
        );
        let buckets = match (kind, &m.buckets) {
            ("histogram", Some(b)) => b.clone(),
            ("histogram", None) => DEFAULT_SECONDS.to_vec(),
            _ => Vec::new(),
        };
        let unit = if kind == "histogram" { "seconds" } else { "" };
        let name_span = m.name_span;
        decls.push(quote_spanned! {name_span=>
                #[#krate::__private::linkme::distributed_slice(#krate::__private::CATALOG)]
                #[linkme(crate = #krate::__private::linkme)]
                static #ident: #krate::__private::MetricDecl = #krate::__private::MetricDecl {
                    name: #name,
                    kind: #krate::__private::MetricKind::#kind_ident,
                    help: #help,
                    unit: #unit,
                    labels: &[#(#labels),*],
                    typed_labels: #typed_names,
                    typed_values: #typed_values,
                    buckets: &[#(#buckets),*],
                    series: &[#(#series),*],
                    max_series: #max_series,
                    location: #krate::__private::Location {
                        file: ::core::file!(),
                        line: ::core::line!(),
                        column: ::core::column!(),
                        function: #function,
                        module: ::core::module_path!(),
                    },
                };
        });
        quote!(::core::option::Option::Some(&#ident))
    };
    let calls = decl(&opts.counter, "counter", "__MVI_CALLS");
    let duration = decl(&opts.histogram, "histogram", "__MVI_DURATION");
    let concurrent = decl(&opts.concurrency, "gauge", "__MVI_CONCURRENT");

    let (site_labels, start) = match &typed {
        Some((expr, ty)) => {
            let builtin = BUILTIN_LABELS;
            let check = quote_spanned! {expr.span()=>
                const _: () = #krate::__private::assert_no_builtin(<#ty as #krate_labels>::NAMES, &[#(#builtin),*]);
            };
            (
                quote!(<#ty as #krate_labels>::NAMES),
                quote! {
                    #check
                    (&#krate::__private::WithLabels(&(#expr))).__mvi_start(&__MVI_SITE, #self_type)
                },
            )
        }
        None if read.is_empty() => (
            quote!(&[#(#user_labels),*]),
            quote!(__MVI_SITE.start(#self_type)),
        ),
        None => {
            // Each value is bound once, to a name spanned on the user's expression, so that a type
            // without `LabelValue` is reported there.
            let vars: Vec<_> = read
                .iter()
                .enumerate()
                .map(|(i, l)| format_ident!("__mvi_label_{}", i, span = l.value.span()))
                .collect();
            // A value whose type the catalog names is checked there, at the argument's type.
            let bind = read
                .iter()
                .zip(&vars)
                .zip(&read_types)
                .map(|((l, var), ty)| {
                    let value = &l.value;
                    let check = ty
                        .is_none()
                        .then(|| quote!(#krate::__private::check_label_value(#var);));
                    quote! {
                        let #var = &(#value);
                        #check
                    }
                });
            (
                quote!(&[#(#user_labels),*]),
                quote! {
                    #(#bind)*
                    (&#krate::__private::WithLabels(&(#(#vars,)*))).__mvi_start(&__MVI_SITE, #self_type)
                },
            )
        }
    };
    let output = output_type(&sig);
    let call = if is_async {
        quote!(#krate::__private::pin_output::<#output, _>(async move #block).await)
    } else {
        quote!(#krate::__private::call::<#output, _>(move || #block))
    };
    let outcome = match &opts.error_if {
        Some(pred) => quote_spanned! {pred.span()=>
            if (#pred)(&__mvi_ret) { #krate::__private::Outcome::Error } else { #krate::__private::Outcome::Ok }
        },
        None => quote!((&#krate::__private::Classify(&__mvi_ret)).__mvi_outcome()),
    };
    quote! {
        #(#attrs)*
        #vis #defaultness #sig {
            #[allow(unused_imports)]
            use #krate::__private::{ClassifyAny as _, ClassifyResult as _, StartLabelled as _, StartUnlabelled as _};
            #(#decls)*
            static __MVI_SITE: #krate::__private::Site = #krate::__private::Site::new(#krate::__private::SiteInfo {
                calls: #calls,
                duration: #duration,
                concurrent: #concurrent,
                function: #function,
                module: ::core::module_path!(),
                labels: #site_labels,
                static_values: &[#(#literal_values),*],
                is_async: #is_async,
            });
            let __mvi_guard = { #start };
            let __mvi_ret = #call;
            __mvi_guard.finish(#outcome);
            __mvi_ret
        }
    }
}
