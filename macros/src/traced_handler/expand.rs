//! Expansion step of `#[traced_handler]`: prints the checked handler; nothing here can fail.
//!
//! The handler gains a first argument, an extractor that reads the method, the matched route and the
//! trace headers without touching the body.
//! It becomes a plain `fn` that opens the request's span at once and returns the future of its body
//! (kept as tokens inside an `async move` block) run in that span, which ends with the response,
//! recorded: one future, with no state machine of its own around it to hold the arguments.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemFn, ReturnType};

use super::valid::{Handler, REQUESTS};
use crate::decl::Decl;
use crate::names::Kind;
use crate::ty;

const LABELS: [&str; 3] = ["method", "route", "status"];

pub(crate) fn expand(handler: Handler) -> TokenStream {
    let Handler {
        f,
        krate,
        duration,
        buckets,
    } = handler;
    let ItemFn {
        attrs,
        vis,
        modifiers: _,
        mut sig,
        block,
    } = f;
    let private = quote!(#krate::__private);
    let handler = sig.ident.to_string();
    // A return type that is not a response is reported on it.
    let output_span = match &sig.output {
        ReturnType::Default => sig.ident.span(),
        ReturnType::Type(_, ty) => ty.span(),
    };
    let pinned = ty::pinned_output(&sig.output);
    // An `impl Trait` return type appears nowhere else in the expansion: named here, in argument
    // position, so that what it names (`use axum::response::IntoResponse`) is still used.
    let named_output = match &sig.output {
        ReturnType::Type(_, ty) if ty::contains_impl_trait(ty) => quote! {
            #[allow(dead_code)]
            fn __mvi_output(_: #ty) {}
        },
        _ => quote!(),
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
                ::core::result::Result::Err(rejection) => {
                    return ::core::result::Result::Err(::std::boxed::Box::new(rejection));
                }
            };
        });
        let wrapper = if i + 1 == count {
            quote!(#private::http::ExtractLast<#ty>)
        } else {
            quote!(#private::http::Extract<#ty>)
        };
        *arg = syn::parse_quote!(#ident: #wrapper);
    }
    let ctx_arg: syn::FnArg = syn::parse_quote!(__mvi_request: #private::http::RequestContext);
    sig.inputs.insert(0, ctx_arg);
    // A non-`Send` body is reported at the handler's `async` keyword, with rustc's note pointing at the
    // value held across an `.await` in the user's code.
    let send_span = sig.asyncness.map_or_else(|| sig.ident.span(), |a| a.span);
    sig.asyncness = None;
    let wrapped: syn::Type = syn::parse_quote_spanned!(output_span=>
        impl ::core::future::Future<Output = #private::http::Response> + ::core::marker::Send
    );
    sig.output = ReturnType::Type(Default::default(), Box::new(wrapped));
    let requests = Decl {
        krate: &krate,
        ident: syn::Ident::new("__MVI_HTTP_REQUESTS", Span::call_site()),
        span: Span::call_site(),
        name: REQUESTS,
        kind: Kind::Counter,
        help: "HTTP requests served, by method, route and status.",
        labels: LABELS.to_vec(),
        typed_labels: quote!(&[]),
        typed_values: quote!(&[]),
        buckets: None,
        max_series: None,
        series: Vec::new(),
        function: &handler,
    };
    let requests_decl = quote!(#requests);
    let duration = Decl {
        ident: syn::Ident::new("__MVI_HTTP_DURATION", Span::call_site()),
        name: &duration,
        kind: Kind::DurationHistogram,
        help: "HTTP request duration in seconds, by method, route and status.",
        buckets: buckets.as_deref(),
        ..requests
    };
    let run = quote_spanned!(output_span=> __mvi_flight.run(__mvi_body));
    let user_body = quote_spanned!(send_span=> async move #block);
    let body_ident = syn::Ident::new("__mvi_body", send_span);
    quote! {
        #(#attrs)*
        #vis #sig {
            #requests_decl
            #duration
            static __MVI_HANDLER: #private::http::HandlerSite =
                #private::http::HandlerSite::new(&__MVI_HTTP_REQUESTS, &__MVI_HTTP_DURATION);
            #named_output
            let __mvi_flight = __MVI_HANDLER.begin(__mvi_request);
            let __mvi_body = (move || {
                #(#unwrap)*
                let #body_ident = #private::pin_output::<#pinned, _>(#user_body);
                ::core::result::Result::Ok(#private::http::assert_send(#body_ident))
            })();
            #run
        }
    }
}
