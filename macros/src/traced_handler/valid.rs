//! Validation step of `#[traced_handler]`: the handler's shape and the options' rules.

use syn::spanned::Spanned;
use syn::{ItemFn, Path};

use super::attr::Attr;
use crate::ctxt::Ctxt;
use crate::names::{self, Kind};

pub(crate) const REQUESTS: &str = "http_requests_total";
pub(crate) const DURATION: &str = "http_request_duration_seconds";

/// A handler to instrument, every rule checked.
pub(crate) struct Handler {
    pub(crate) f: ItemFn,
    pub(crate) krate: Path,
    /// The duration histogram's name.
    pub(crate) duration: String,
    /// `None` for the runtime's default buckets.
    pub(crate) buckets: Option<Vec<f64>>,
}

/// `f` is `None` when the item is not a function (already reported); the options are checked anyway.
pub(crate) fn check(f: Option<ItemFn>, attr: Attr, cx: &Ctxt) -> Option<Handler> {
    let duration = match &attr.name {
        Some(lit) => {
            if let Err(v) = names::check_metric_name(&lit.value(), Kind::DurationHistogram) {
                cx.error(lit.span(), v.render());
            }
            lit.value()
        }
        None => DURATION.to_string(),
    };
    let buckets = attr.buckets.and_then(|spec| match spec.check() {
        Ok(b) => Some(b),
        Err(e) => {
            cx.push(e);
            None
        }
    });
    let f = f?;
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
    Some(Handler {
        f,
        krate: crate::attr::krate(attr.krate),
        duration,
        buckets,
    })
}
