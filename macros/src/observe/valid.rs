//! Validation step of `#[observe]`: every rule, in one place, turning the parsed attribute and item into
//! the checked model that `expand.rs` prints. Each mistake is reported once, spanned on its token.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Expr, ImplItem, ItemFn, ItemImpl, Path, Signature, Type};

use super::ast::{Item, Method};
use super::attr::{Attr, LabelArg, LabelsAttr, MetricAttr, SpanAttr};
use crate::attr::ident_name;
use crate::ctxt::Ctxt;
use crate::names::{self, Kind};
use crate::ty;

pub(crate) const DEFAULT_COUNTER: &str = "function_calls_total";
pub(crate) const DEFAULT_HISTOGRAM: &str = "function_calls_duration_seconds";
pub(crate) const DEFAULT_GAUGE: &str = "function_calls_concurrent";

/// Labels every `observe` metric carries; user labels may not reuse them.
pub(crate) const BUILTIN_LABELS: &[&str] = &["function", "module", "result"];

/// Most labels one `labels(...)` takes.
const MAX_LABELS: usize = 8;

/// What `#[observe]` expands to, every rule checked.
pub(crate) enum Observed {
    /// A function emitted as it is: `#[observe(skip)]`.
    Unchanged(ItemFn),
    Fn(Box<Function>),
    /// An `impl` block (its methods' `#[observe]`s removed) and the methods to instrument, by position.
    Impl {
        item: ItemImpl,
        methods: Vec<(usize, Function)>,
    },
}

/// One function to instrument.
pub(crate) struct Function {
    pub(crate) f: ItemFn,
    pub(crate) krate: Path,
    pub(crate) label: FnLabel,
    pub(crate) counter: Option<Metric>,
    pub(crate) histogram: Option<Metric>,
    pub(crate) concurrency: Option<Metric>,
    pub(crate) labels: Labels,
    pub(crate) error_if: Option<Expr>,
    pub(crate) max_series: Option<usize>,
    /// `span`: each call runs in a child span; `Some(expr)` names its parent.
    pub(crate) span: Option<Option<Expr>>,
}

/// How the `function` label is known.
pub(crate) enum FnLabel {
    /// Written out at compile time: `checkout` or `Cart::add`.
    Static(String),
    /// A lone method: the type comes from `type_name::<Self>()` at the first call.
    SelfType(String),
}

/// One metric, its name checked and its help and buckets settled.
#[derive(Clone)]
pub(crate) struct Metric {
    pub(crate) name: String,
    /// The name literal, or the metric keyword (or the call site) when the name is the default.
    pub(crate) span: Span,
    pub(crate) help: String,
    /// Histograms: `None` for the runtime's default buckets.
    pub(crate) buckets: Option<Vec<f64>>,
}

pub(crate) enum Labels {
    /// `labels(key = expr, ...)` (possibly none): the values known at compile time (string literals)
    /// and those read at each call, each group in the order written.
    Args {
        literal: Vec<(String, String)>,
        read: Vec<ReadLabel>,
    },
    /// `labels = expr`, with the type deriving `Labels` that the catalog names.
    Typed { expr: Box<Expr>, ty: Box<Type> },
}

/// A label whose value is read at each call.
pub(crate) struct ReadLabel {
    pub(crate) name: String,
    pub(crate) value: Expr,
    /// The value's type when it is an argument whose type the catalog can name: its
    /// `LabelValue::VALUES` then give the zero series at install.
    pub(crate) ty: Option<Type>,
}

/// One attribute's options, each checked on its own.
#[derive(Default)]
struct Options {
    skip: bool,
    counter: Option<Metric>,
    histogram: Option<Metric>,
    concurrency: Option<Metric>,
    labels: Vec<LabelArg>,
    typed_labels: Option<Expr>,
    error_if: Option<Expr>,
    /// `max_series = n`, with the span of `n`.
    max_series: Option<(usize, Span)>,
    span: Option<SpanAttr>,
    krate: Option<Path>,
}

pub(crate) fn check(item: Item, attr: Attr, cx: &Ctxt) -> Option<Observed> {
    let opts = options(attr, cx);
    match item {
        Item::Fn(f) => {
            if let Some(c) = &f.sig.constness {
                cx.error(c.span, "`#[observe]` cannot instrument a `const fn`: recording metrics is not possible in const evaluation");
            }
            if let (Some((_, span)), true) = (
                opts.max_series,
                opts.labels.is_empty() && opts.typed_labels.is_none(),
            ) {
                cx.error(
                    span,
                    "`max_series` caps label sets, and this function has none: add `labels(...)` or remove it",
                );
            }
            if opts.skip {
                return Some(Observed::Unchanged(f));
            }
            let name = ident_name(&f.sig.ident);
            let label = if mentions_self(&f.sig) {
                FnLabel::SelfType(name)
            } else {
                FnLabel::Static(name)
            };
            function(f, opts, label, cx).map(|f| Observed::Fn(Box::new(f)))
        }
        Item::Impl { item, methods } => Some(check_impl(item, methods, opts, cx)),
        Item::Bodyless(span) => {
            cx.error(span, "`#[observe]` needs a function body; put it on the `impl` instead of the trait declaration");
            None
        }
        Item::Other(span) => {
            cx.error(
                span,
                "`#[observe]` goes on a function, a method or an `impl` block",
            );
            None
        }
    }
}

fn check_impl(item: ItemImpl, methods: Vec<Method>, outer: Options, cx: &Ctxt) -> Observed {
    let type_name = type_label(&item.self_ty);
    let mut checked = Vec::new();
    for method in methods {
        if let Some(second) = method.observe_attrs.get(1) {
            let path = second.path();
            let span = path.segments.last().map_or(path.span(), |s| s.ident.span());
            cx.error(span, "`#[observe]` given twice on this method");
        }
        let opts = options(method.attr, cx).merged_over(&outer);
        let ImplItem::Fn(m) = &item.items[method.index] else {
            unreachable!("methods are the block's functions")
        };
        if opts.skip || outer.skip || m.sig.constness.is_some() {
            continue;
        }
        let f = ItemFn {
            attrs: m.attrs.clone(),
            vis: m.vis.clone(),
            modifiers: m.modifiers.clone(),
            sig: m.sig.clone(),
            block: Box::new(m.block.clone()),
        };
        let label = FnLabel::Static(format!("{}::{}", type_name, ident_name(&f.sig.ident)));
        if let Some(f) = function(f, opts, label, cx) {
            checked.push((method.index, f));
        }
    }
    if let Some(parent) = outer.span.as_ref().and_then(|s| s.parent.as_ref()) {
        cx.error(
            parent.span(),
            "`span(parent = ...)` on an `impl` block would apply to every method; put it on the method whose calls start there",
        );
    }
    // `labels(...)` names arguments of the methods, so it cannot apply to a whole `impl`.
    for value in outer
        .labels
        .iter()
        .map(|l| &l.value)
        .chain(&outer.typed_labels)
    {
        cx.error(
            value.span(),
            "`labels(...)` on an `impl` block would apply to every method; put it on the method that has these arguments",
        );
    }
    Observed::Impl {
        item,
        methods: checked,
    }
}

/// Checks one attribute's options: names, help, buckets, labels, `max_series`.
fn options(attr: Attr, cx: &Ctxt) -> Options {
    let checked =
        |m: Option<MetricAttr>, kind: Kind, default: &str| m.map(|m| metric(m, kind, default, cx));
    let mut opts = Options {
        skip: attr.skip,
        counter: checked(attr.counter, Kind::Counter, DEFAULT_COUNTER),
        histogram: checked(attr.histogram, Kind::DurationHistogram, DEFAULT_HISTOGRAM),
        concurrency: checked(attr.concurrency, Kind::Gauge, DEFAULT_GAUGE),
        error_if: attr.error_if,
        span: attr.span,
        krate: attr.krate,
        ..Options::default()
    };
    match attr.labels {
        Some(LabelsAttr::Typed(expr)) => opts.typed_labels = Some(expr),
        Some(LabelsAttr::List { keyword, labels }) => {
            for (i, label) in labels.iter().enumerate() {
                if let Err(v) = names::check_label_name(&label.name, BUILTIN_LABELS) {
                    cx.error(label.span, v.render());
                } else if labels[..i].iter().any(|l| l.name == label.name) {
                    cx.error(label.span, format!("label `{}` given twice", label.name));
                }
            }
            if labels.len() > MAX_LABELS {
                cx.error(
                    keyword,
                    format!(
                        "{} labels given; at most {MAX_LABELS} are allowed",
                        labels.len()
                    ),
                );
            }
            opts.labels = labels;
        }
        None => {}
    }
    if let Some(lit) = attr.max_series {
        match lit.base10_parse::<usize>() {
            Ok(n) if n > 0 => opts.max_series = Some((n, lit.span())),
            _ => cx.error(
                lit.span(),
                "`max_series` is the most label sets a metric may have: a whole number of at least 1",
            ),
        }
    }
    opts
}

fn metric(m: MetricAttr, kind: Kind, default: &str, cx: &Ctxt) -> Metric {
    if let Some(lit) = &m.name {
        if let Err(v) = names::check_metric_name(&lit.value(), kind) {
            cx.error(lit.span(), v.render());
        }
    }
    let help = m.help.map(|lit| {
        if lit.value().trim().is_empty() {
            cx.error(
                lit.span(),
                "`help` is empty; describe what the metric counts or measures",
            );
        }
        lit.value()
    });
    let buckets = m.buckets.and_then(|spec| match spec.check() {
        Ok(b) => Some(b),
        Err(e) => {
            cx.push(e);
            None
        }
    });
    let (name, span) = match m.name {
        Some(lit) => (lit.value(), lit.span()),
        None => (default.to_string(), m.keyword),
    };
    Metric {
        help: help.unwrap_or_else(|| default_help(&name, kind).to_string()),
        name,
        span,
        buckets,
    }
}

fn default_help(name: &str, kind: Kind) -> &'static str {
    match (name, kind) {
        (DEFAULT_COUNTER, _) => "Calls of observed functions, by result.",
        (DEFAULT_HISTOGRAM, _) => "Duration of calls of observed functions, in seconds.",
        (DEFAULT_GAUGE, _) => "Calls of observed functions in flight.",
        (_, Kind::Counter) => "Calls, by result.",
        (_, Kind::Gauge) => "Calls in flight.",
        (_, Kind::DurationHistogram | Kind::ValueHistogram) => "Call duration, in seconds.",
    }
}

impl Options {
    /// Options of an inner `#[observe(...)]` on a method inside an observed `impl` block, layered over
    /// the block's. Its labels are its own: the block's may not have any.
    fn merged_over(mut self, outer: &Options) -> Options {
        if self.counter.is_none() && self.histogram.is_none() && self.concurrency.is_none() {
            self.counter.clone_from(&outer.counter);
            self.histogram.clone_from(&outer.histogram);
            self.concurrency.clone_from(&outer.concurrency);
        }
        if self.error_if.is_none() {
            self.error_if.clone_from(&outer.error_if);
        }
        if self.krate.is_none() {
            self.krate.clone_from(&outer.krate);
        }
        if self.max_series.is_none() {
            self.max_series = outer.max_series;
        }
        if self.span.is_none() {
            self.span = outer.span.as_ref().map(|s| SpanAttr {
                keyword: s.keyword,
                parent: None,
            });
        }
        self
    }
}

/// The checks that need the function's signature, and the defaults: with no metric named, `observe`
/// records the call counter and the latency histogram.
fn function(f: ItemFn, opts: Options, label: FnLabel, cx: &Ctxt) -> Option<Function> {
    let labels = match &opts.typed_labels {
        Some(expr) => match typed_label_type(expr, &f.sig) {
            Ok(ty) => Labels::Typed {
                expr: Box::new(expr.clone()),
                ty: Box::new(ty),
            },
            Err(e) => {
                cx.push(e);
                return None;
            }
        },
        None => {
            let (literal, read): (Vec<&LabelArg>, Vec<&LabelArg>) = opts
                .labels
                .iter()
                .partition(|l| literal_str(&l.value).is_some());
            Labels::Args {
                literal: literal
                    .iter()
                    .filter_map(|l| Some((l.name.clone(), literal_str(&l.value)?)))
                    .collect(),
                read: read
                    .into_iter()
                    .map(|l| ReadLabel {
                        name: l.name.clone(),
                        value: l.value.clone(),
                        ty: read_label_type(&l.value, &f.sig).cloned(),
                    })
                    .collect(),
            }
        }
    };
    let no_metric =
        opts.counter.is_none() && opts.histogram.is_none() && opts.concurrency.is_none();
    let default = |name: &str, kind| Metric {
        name: name.to_string(),
        span: Span::call_site(),
        help: default_help(name, kind).to_string(),
        buckets: None,
    };
    let (counter, histogram) = if no_metric {
        (
            Some(default(DEFAULT_COUNTER, Kind::Counter)),
            Some(default(DEFAULT_HISTOGRAM, Kind::DurationHistogram)),
        )
    } else {
        (opts.counter, opts.histogram)
    };
    Some(Function {
        f,
        krate: crate::attr::krate(opts.krate),
        label,
        counter,
        histogram,
        concurrency: opts.concurrency,
        labels,
        error_if: opts.error_if,
        max_series: opts.max_series.map(|(n, _)| n),
        span: opts.span.map(|s| s.parent),
    })
}

/// `function` label of a method in an `impl` block: `Type::method`.
fn type_label(self_ty: &Type) -> String {
    match ty::strip_refs(self_ty) {
        Type::Path(p) => p
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default(),
        other => quote::quote!(#other).to_string().replace(' ', ""),
    }
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

/// The value of a string-literal label (`labels(tier = "gold")`), known at compile time.
fn literal_str(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Some(s.value()),
        _ => None,
    }
}

/// The declared type (references stripped) of the argument named `ident`.
fn arg_type<'a>(ident: &syn::Ident, sig: &'a Signature) -> Option<&'a Type> {
    sig.inputs.iter().find_map(|arg| match arg {
        syn::FnArg::Typed(t) => match &*t.pat {
            syn::Pat::Ident(pi) if pi.ident == *ident => Some(ty::strip_refs(&t.ty)),
            _ => None,
        },
        syn::FnArg::Receiver(_) => None,
    })
}

/// The type of a `labels(key = expr)` value when `expr` is an argument (`arg`, `&arg`, `*arg`) whose
/// type the catalog can name.
fn read_label_type<'a>(expr: &Expr, sig: &'a Signature) -> Option<&'a Type> {
    match expr {
        Expr::Path(p) => {
            arg_type(p.path.get_ident()?, sig).filter(|t| ty::nameable_in_static(t, sig))
        }
        Expr::Reference(r) => read_label_type(&r.expr, sig),
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => read_label_type(&u.expr, sig),
        Expr::Paren(p) => read_label_type(&p.expr, sig),
        Expr::Group(g) => read_label_type(&g.expr, sig),
        _ => None,
    }
}

/// The type behind `labels = x`: an argument's declared type, or a struct literal's path.
fn typed_label_type(expr: &Expr, sig: &Signature) -> syn::Result<Type> {
    const HELP: &str = "`labels = ...` takes an argument of this function, or a struct literal, whose type derives `mvi::Labels`";
    match expr {
        Expr::Path(p) if p.path.get_ident().is_some() => {
            let ident = p.path.get_ident().expect("checked above");
            match arg_type(ident, sig) {
                Some(t) if !ty::nameable_in_static(t, sig) => Err(syn::Error::new(
                    t.span(),
                    "`labels = ...` needs a concrete type, not `impl Trait`, a generic parameter or `Self`: its label names are recorded in the catalog",
                )),
                Some(t) => Ok(t.clone()),
                None => Err(syn::Error::new(
                    ident.span(),
                    format!("`{ident}` is not an argument of this function; {HELP}"),
                )),
            }
        }
        Expr::Struct(s) => Ok(Type::Path(syn::TypePath {
            attrs: Vec::new(),
            qself: s.qself.clone(),
            path: s.path.clone(),
        })),
        other => Err(syn::Error::new(other.span(), HELP)),
    }
}
