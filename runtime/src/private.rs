//! What the macros' generated code calls. **Not a stable API**: it may change in any release.

use std::future::Future;

pub use linkme;

/// What `#[traced_handler]` generates calls to.
pub mod http {
    pub use crate::http::{
        Extract, ExtractLast, Failure, HandlerSite, InFlight, RequestContext, ViaInner, assert_send,
    };
    pub use axum::response::Response;
}

/// What `mvi::metrics!` generates calls to.
pub mod declared {
    pub use crate::declared::{
        CallbackGauge, Counter, Gauge, Histogram, LabelsOf, NotLabels, Unlabelled,
    };
}

pub use crate::DEFAULT_BUCKETS;
pub use crate::catalog::{CATALOG, Location, MetricDecl, MetricKind};
pub use crate::label::{LabelStr, LabelValue, Labels};
pub use crate::site::{Guard, Outcome, Site, SiteInfo};
pub use crate::span::{CallSpan, SpanSite};

/// Runs `f` with `cx` as the context code on this thread runs in, as `#[traced_handler]` does for its
/// body: for the benchmarks of the record path inside a trace.
pub fn in_context<R>(cx: crate::context::SpanContext, f: impl FnOnce() -> R) -> R {
    let mut extra = crate::context::Extra::default();
    let _entered = crate::context::enter(Some(cx), &mut extra);
    f()
}

/// Turns `#[traced_handler]`'s access line on or off after install: for the HTTP benchmark, which
/// measures the handler with and without it in one run.
pub fn set_access_log(enabled: bool) {
    crate::global::set_access_log(enabled);
}

/// Calls the wrapped body; `R` is the function's declared return type, so `?` and `return` inside the
/// closure resolve exactly as in the original function.
#[inline(always)]
pub fn call<R, F: FnOnce() -> R>(body: F) -> R {
    body()
}

/// Pins an `async move` block's output to the function's declared return type.
#[inline(always)]
pub fn pin_output<R, F: Future<Output = R>>(body: F) -> F {
    body
}

/// Compile-time check of one `labels(key = expr)` value whose type the catalog cannot name, spanned on
/// `expr` so that a type without [`LabelValue`] is reported there. (When `expr` is an argument, the
/// catalog's `<T as LabelValue>::VALUES` reports it at the argument's type instead.)
#[inline(always)]
pub fn check_label_value<T: LabelValue + ?Sized>(_: &T) {}

/// Autoref specialisation for starting a labelled call: `(&WithLabels(&labels)).__mvi_start(..)` picks
/// [`StartLabelled`] when the labels implement [`Labels`], and [`StartUnlabelled`] otherwise. The
/// second case never compiles: its cause is reported at the user's tokens (the argument's type, or the
/// value through [`check_label_value`]), and this keeps the same mistake from being reported twice.
#[derive(Debug)]
pub struct WithLabels<'a, L: ?Sized>(pub &'a L);

/// Labels that implement [`Labels`].
pub trait StartLabelled {
    /// Starts the call with these labels.
    fn __mvi_start(&self, site: &'static Site, self_type: Option<&'static str>) -> Guard;
}

impl<L: Labels + ?Sized> StartLabelled for WithLabels<'_, L> {
    #[inline(always)]
    fn __mvi_start(&self, site: &'static Site, self_type: Option<&'static str>) -> Guard {
        site.start_with(self_type, self.0)
    }
}

/// Labels that do not: a compile error is already reported at the value.
pub trait StartUnlabelled {
    /// Starts the call without labels.
    fn __mvi_start(&self, site: &'static Site, self_type: Option<&'static str>) -> Guard;
}

impl<L: ?Sized> StartUnlabelled for &WithLabels<'_, L> {
    fn __mvi_start(&self, site: &'static Site, self_type: Option<&'static str>) -> Guard {
        site.start(self_type)
    }
}

/// Autoref specialisation: `(&Classify(&ret)).__mvi_outcome()` picks [`ClassifyResult`] for `Result`
/// and [`ClassifyAny`] for everything else.
#[derive(Debug)]
pub struct Classify<'a, T: ?Sized>(pub &'a T);

/// `Ok` → `ok`, `Err` → `error`.
pub trait ClassifyResult {
    /// The outcome of the call.
    fn __mvi_outcome(&self) -> Outcome;
    /// A span's `error.type` when the call is an error: the error's type.
    fn __mvi_error_type(&self) -> &'static str;
}

impl<T, E> ClassifyResult for Classify<'_, Result<T, E>> {
    #[inline(always)]
    fn __mvi_outcome(&self) -> Outcome {
        if self.0.is_ok() {
            Outcome::Ok
        } else {
            Outcome::Error
        }
    }

    #[inline(always)]
    fn __mvi_error_type(&self) -> &'static str {
        ::core::any::type_name::<E>()
    }
}

/// Any other return type: `ok`.
pub trait ClassifyAny {
    /// The outcome of the call.
    fn __mvi_outcome(&self) -> Outcome;
    /// A span's `error.type` when `error_if` holds: the returned type.
    fn __mvi_error_type(&self) -> &'static str;
}

impl<T: ?Sized> ClassifyAny for &Classify<'_, T> {
    #[inline(always)]
    fn __mvi_outcome(&self) -> Outcome {
        Outcome::Ok
    }

    #[inline(always)]
    fn __mvi_error_type(&self) -> &'static str {
        ::core::any::type_name::<T>()
    }
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Compile-time check that a `Labels` type does not reuse a label the macro adds itself.
pub const fn assert_no_builtin(names: &[&str], builtin: &[&str]) {
    let mut i = 0;
    while i < names.len() {
        let mut j = 0;
        while j < builtin.len() {
            if str_eq(names[i], builtin[j]) {
                panic!(
                    "a field of this `Labels` type is named like a label mvi adds itself; rename it with `#[label(name = \"...\")]`"
                );
            }
            j += 1;
        }
        i += 1;
    }
}
