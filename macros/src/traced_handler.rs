//! `#[traced_handler]`: parse, validate and expand.
//!
//! The handler gains a first argument, an extractor that reads the method, the matched route and the
//! trace headers without touching the body, and its output is wrapped in `Traced<_>`, whose
//! `IntoResponse` records the status. The body is kept as tokens inside an `async move` block.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{Expr, ItemFn, LitStr, Path, ReturnType};

use crate::buckets::{self, DEFAULT_SECONDS};
use crate::ctxt::Ctxt;
use crate::names::{self, Kind};
use crate::observe::{path_key, skip_value, unknown_key};

const KEYS: &[&str] = &["buckets", "name", "crate"];
const REQUESTS: &str = "http_requests_total";
const DURATION: &str = "http_request_duration_seconds";

#[derive(Default)]
struct Options {
    buckets: Option<Vec<f64>>,
    name: Option<String>,
    krate: Option<Path>,
    seen: Vec<String>,
}

fn parse_options(args: TokenStream, cx: &Ctxt) -> Options {
    let mut opts = Options::default();
    let parser = syn::meta::parser(|meta| {
        let key = path_key(&meta.path);
        let span = meta.path.span();
        if !KEYS.contains(&key.as_str()) {
            cx.error(span, unknown_key(&key, KEYS));
            return skip_value(&meta);
        }
        let repeated = opts.seen.contains(&key);
        if repeated {
            cx.error(span, format!("`{key}` given twice"));
        }
        opts.seen.push(key.clone());
        let value = meta.value()?;
        match key.as_str() {
            "buckets" => match buckets::parse(&value.parse::<Expr>()?) {
                Ok(b) if !repeated => opts.buckets = Some(b),
                Ok(_) => {}
                Err(e) => cx.push(e),
            },
            "name" => {
                let lit: LitStr = value.parse()?;
                if let Err(v) = names::check_metric_name(&lit.value(), Kind::DurationHistogram) {
                    cx.error(lit.span(), v.render());
                }
                opts.name = Some(lit.value());
            }
            _ => {
                opts.krate = Some(if value.peek(LitStr) {
                    value.parse::<LitStr>()?.parse()?
                } else {
                    value.parse()?
                });
            }
        }
        Ok(())
    });
    if let Err(e) = parser.parse2(args) {
        cx.push(e);
    }
    opts
}

pub(crate) fn traced_handler(args: TokenStream, item: TokenStream) -> TokenStream {
    let cx = Ctxt::default();
    let opts = parse_options(args, &cx);
    let f: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            let span = item
                .clone()
                .into_iter()
                .next()
                .map_or_else(Span::call_site, |t| t.span());
            cx.error(
                span,
                "`#[traced_handler]` goes on an `async fn` axum handler",
            );
            return with_errors(item, cx);
        }
    };
    if f.sig.asyncness.is_none() {
        cx.error(
            f.sig.fn_token.span,
            "`#[traced_handler]` needs an `async fn`: axum handlers are async",
        );
    }
    if !f.sig.generics.params.is_empty() {
        cx.error(
            f.sig.generics.span(),
            "`#[traced_handler]` cannot instrument a generic handler; give the handler concrete types",
        );
    }
    if let Some(r) = f.sig.receiver() {
        cx.error(
            r.span(),
            "`#[traced_handler]` goes on a free `async fn`, not a method",
        );
    }
    if cx.has_errors() {
        return with_errors(item, cx);
    }
    expand(f, &opts)
}

fn with_errors(item: TokenStream, cx: Ctxt) -> TokenStream {
    let errors = cx.check().err().map(|e| e.to_compile_error());
    quote!(#item #errors)
}

fn expand(f: ItemFn, opts: &Options) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        modifiers: _,
        mut sig,
        block,
    } = f;
    let krate = opts
        .krate
        .clone()
        .unwrap_or_else(|| syn::parse_quote!(::mvi));
    let handler = sig.ident.to_string();
    let buckets = opts
        .buckets
        .clone()
        .unwrap_or_else(|| DEFAULT_SECONDS.to_vec());
    let duration_name = opts.name.clone().unwrap_or_else(|| DURATION.to_string());
    let output = match &sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => quote!(#ty),
    };
    let pinned = match &sig.output {
        ReturnType::Type(_, ty) if quote!(#ty).to_string().contains("impl") => quote!(_),
        _ => output.clone(),
    };
    // Each extractor is wrapped so that its rejection reaches the handler as a response to record,
    // instead of being answered by axum before the handler (and its metrics) run. The user's patterns
    // are bound from the unwrapped values before the body starts.
    let count = sig.inputs.len();
    let mut unwrap = Vec::new();
    for (i, arg) in sig.inputs.iter_mut().enumerate() {
        let syn::FnArg::Typed(typed) = arg else {
            continue;
        };
        let ident = format_ident!("__mvi_arg{}", i);
        let (attrs, pat, ty) = (&typed.attrs, &typed.pat, &typed.ty);
        unwrap.push(quote! {
            #(#attrs)*
            let #pat = match #ident.0 {
                ::core::result::Result::Ok(value) => value,
                ::core::result::Result::Err(rejection) => return __mvi_flight.rejected(rejection),
            };
        });
        let wrapper = if i + 1 == count {
            quote!(#krate::__private::http::ExtractLast<#ty>)
        } else {
            quote!(#krate::__private::http::Extract<#ty>)
        };
        *arg = syn::parse_quote!(#ident: #wrapper);
    }
    let ctx_arg: syn::FnArg =
        syn::parse_quote!(__mvi_request: #krate::__private::http::RequestContext);
    sig.inputs.insert(0, ctx_arg);
    let wrapped: syn::Type = syn::parse_quote!(#krate::__private::http::Traced<#output>);
    sig.output = ReturnType::Type(Default::default(), Box::new(wrapped));
    // A non-`Send` body is reported at the handler's `async` keyword, with rustc's note pointing at the
    // value held across an `.await` in the user's code.
    let send_span = sig.asyncness.map_or_else(|| sig.ident.span(), |a| a.span);
    let decl = |ident: &str, name: &str, kind: &str, help: &str, buckets: &[f64], unit: &str| {
        let ident = syn::Ident::new(ident, Span::call_site());
        let kind = syn::Ident::new(kind, Span::call_site());
        quote! {
            #[#krate::__private::linkme::distributed_slice(#krate::__private::CATALOG)]
            #[linkme(crate = #krate::__private::linkme)]
            static #ident: #krate::__private::MetricDecl = #krate::__private::MetricDecl {
                name: #name,
                kind: #krate::__private::MetricKind::#kind,
                help: #help,
                unit: #unit,
                labels: &["method", "route", "status"],
                typed_labels: &[],
                typed_values: &[],
                buckets: &[#(#buckets),*],
                series: &[],
                max_series: ::core::option::Option::None,
                location: #krate::__private::Location {
                    file: ::core::file!(),
                    line: ::core::line!(),
                    column: ::core::column!(),
                    function: #handler,
                    module: ::core::module_path!(),
                },
            };
        }
    };
    let requests = decl(
        "__MVI_HTTP_REQUESTS",
        REQUESTS,
        "Counter",
        "HTTP requests served, by method, route and status.",
        &[],
        "",
    );
    let duration = decl(
        "__MVI_HTTP_DURATION",
        &duration_name,
        "Histogram",
        "HTTP request duration in seconds, by method, route and status.",
        &buckets,
        "seconds",
    );
    let user_body = quote_spanned!(send_span=> async move #block);
    let body_ident = syn::Ident::new("__mvi_body", send_span);
    quote! {
        #(#attrs)*
        #vis #sig {
            #requests
            #duration
            static __MVI_HANDLER: #krate::__private::http::HandlerSite =
                #krate::__private::http::HandlerSite::new(&__MVI_HTTP_REQUESTS, &__MVI_HTTP_DURATION);
            let __mvi_flight = __MVI_HANDLER.begin(__mvi_request);
            #(#unwrap)*
            let #body_ident = #krate::__private::pin_output::<#pinned, _>(#user_body);
            __mvi_flight.run(#krate::__private::http::assert_send(#body_ident)).await
        }
    }
}
