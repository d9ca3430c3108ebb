//! Parsing and validation of `#[observe(...)]` options.

use proc_macro2::{Span, TokenStream};
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{Expr, Ident, LitStr, Path};

use crate::buckets;
use crate::ctxt::Ctxt;
use crate::names::{self, Kind};

pub(crate) const DEFAULT_COUNTER: &str = "function_calls_total";
pub(crate) const DEFAULT_HISTOGRAM: &str = "function_calls_duration_seconds";
pub(crate) const DEFAULT_GAUGE: &str = "function_calls_concurrent";

/// Labels every `observe` metric carries; user labels may not reuse them.
pub(crate) const BUILTIN_LABELS: &[&str] = &["function", "module", "result"];

/// Most labels one `labels(...)` takes.
const MAX_LABELS: usize = 8;

const TOP_KEYS: &[&str] = &[
    "counter",
    "histogram",
    "concurrency",
    "labels",
    "error_if",
    "skip",
    "max_series",
    "crate",
];
const METRIC_KEYS: &[&str] = &["name", "help"];
const HISTOGRAM_KEYS: &[&str] = &["buckets", "name", "help"];

/// One metric the attribute asked for.
pub(crate) struct Metric {
    pub(crate) name: String,
    /// Span of the name literal, or of the metric keyword when the name is the default.
    pub(crate) name_span: Span,
    pub(crate) help: Option<String>,
    pub(crate) buckets: Option<Vec<f64>>,
}

pub(crate) struct Label {
    pub(crate) name: String,
    pub(crate) value: Expr,
}

#[derive(Default)]
pub(crate) struct Options {
    pub(crate) skip: bool,
    pub(crate) counter: Option<Metric>,
    pub(crate) histogram: Option<Metric>,
    pub(crate) concurrency: Option<Metric>,
    pub(crate) labels: Vec<Label>,
    /// `labels = arg`: a value of a type deriving `Labels`.
    pub(crate) typed_labels: Option<Expr>,
    pub(crate) error_if: Option<Expr>,
    /// `max_series = n`, with the span of `n`.
    pub(crate) max_series: Option<(usize, Span)>,
    pub(crate) krate: Option<Path>,
    /// Keys seen at the top level, to report repeats.
    seen: Vec<String>,
}

impl Options {
    /// Parses the attribute's arguments; errors go to `cx` and parsing goes on where it can.
    pub(crate) fn parse(args: TokenStream, cx: &Ctxt) -> Options {
        let mut opts = Options::default();
        let parser = syn::meta::parser(|meta| opts.option(meta, cx));
        if let Err(e) = parser.parse2(args) {
            cx.push(e);
        }
        opts
    }

    /// Options of an inner `#[observe(...)]` on a method inside an observed `impl` block, layered over the block's.
    pub(crate) fn merged_over(mut self, outer: &Options) -> Options {
        let no_kind =
            self.counter.is_none() && self.histogram.is_none() && self.concurrency.is_none();
        if no_kind {
            self.counter = outer.counter.as_ref().map(Metric::clone_parts);
            self.histogram = outer.histogram.as_ref().map(Metric::clone_parts);
            self.concurrency = outer.concurrency.as_ref().map(Metric::clone_parts);
        }
        if self.error_if.is_none() {
            self.error_if = outer.error_if.clone();
        }
        if self.krate.is_none() {
            self.krate = outer.krate.clone();
        }
        if self.max_series.is_none() {
            self.max_series = outer.max_series;
        }
        self
    }

    /// With no metric named, `observe` records the call counter and the latency histogram.
    pub(crate) fn apply_defaults(&mut self) {
        if self.counter.is_none() && self.histogram.is_none() && self.concurrency.is_none() {
            self.counter = Some(Metric::default_for(DEFAULT_COUNTER));
            self.histogram = Some(Metric::default_for(DEFAULT_HISTOGRAM));
        }
    }

    fn repeated(&mut self, key: &str, span: Span, cx: &Ctxt) -> bool {
        if self.seen.iter().any(|k| k == key) {
            cx.error(span, format!("`{key}` given twice"));
            return true;
        }
        self.seen.push(key.to_string());
        false
    }

    fn option(&mut self, meta: ParseNestedMeta<'_>, cx: &Ctxt) -> syn::Result<()> {
        let span = meta.path.span();
        let key = path_key(&meta.path);
        let repeated = TOP_KEYS.contains(&key.as_str()) && self.repeated(&key, span, cx);
        match key.as_str() {
            "skip" => {
                self.skip = true;
                no_value(&meta, "skip", cx)?;
            }
            "counter" | "histogram" | "concurrency" => {
                let (kind, default) = match key.as_str() {
                    "counter" => (Kind::Counter, DEFAULT_COUNTER),
                    "histogram" => (Kind::DurationHistogram, DEFAULT_HISTOGRAM),
                    _ => (Kind::Gauge, DEFAULT_GAUGE),
                };
                let metric = parse_metric(&meta, kind, default, cx)?;
                if !repeated {
                    match kind {
                        Kind::Counter => self.counter = Some(metric),
                        Kind::DurationHistogram => self.histogram = Some(metric),
                        Kind::Gauge => self.concurrency = Some(metric),
                    }
                }
            }
            "labels" => {
                if meta.input.peek(syn::Token![=]) {
                    let expr: Expr = meta.value()?.parse()?;
                    if !repeated {
                        self.typed_labels = Some(expr);
                    }
                    return Ok(());
                }
                let mut labels = Vec::new();
                meta.parse_nested_meta(|label| {
                    let name_span = label.path.span();
                    let name = path_key(&label.path);
                    let value: Expr = label.value()?.parse()?;
                    if let Err(v) = names::check_label_name(&name, BUILTIN_LABELS) {
                        cx.error(name_span, v.render());
                    } else if labels
                        .iter()
                        .chain(&self.labels)
                        .any(|l: &Label| l.name == name)
                    {
                        cx.error(name_span, format!("label `{name}` given twice"));
                    }
                    labels.push(Label { name, value });
                    Ok(())
                })?;
                if labels.len() > MAX_LABELS {
                    cx.error(
                        span,
                        format!(
                            "{} labels given; at most {MAX_LABELS} are allowed",
                            labels.len()
                        ),
                    );
                }
                if !repeated {
                    self.labels = labels;
                }
            }
            "max_series" => {
                let lit: syn::LitInt = meta.value()?.parse()?;
                match lit.base10_parse::<usize>() {
                    Ok(n) if n > 0 => {
                        if !repeated {
                            self.max_series = Some((n, lit.span()));
                        }
                    }
                    _ => cx.error(
                        lit.span(),
                        "`max_series` is the most label sets a metric may have: a whole number of at least 1",
                    ),
                }
            }
            "error_if" => {
                let expr: Expr = meta.value()?.parse()?;
                if !repeated {
                    self.error_if = Some(expr);
                }
            }
            "crate" => {
                let value = meta.value()?;
                let path = if value.peek(LitStr) {
                    value.parse::<LitStr>()?.parse::<Path>()?
                } else {
                    value.parse()?
                };
                if !repeated {
                    self.krate = Some(path);
                }
            }
            _ => {
                cx.error(span, unknown_key(&key, TOP_KEYS));
                skip_value(&meta)?;
            }
        }
        Ok(())
    }
}

impl Metric {
    fn default_for(name: &str) -> Metric {
        Metric {
            name: name.to_string(),
            name_span: Span::call_site(),
            help: None,
            buckets: None,
        }
    }

    fn clone_parts(&self) -> Metric {
        Metric {
            name: self.name.clone(),
            name_span: self.name_span,
            help: self.help.clone(),
            buckets: self.buckets.clone(),
        }
    }
}

/// `counter`, `counter(name = "...", help = "...")`, `histogram(buckets = ..., ...)`, `concurrency(...)`.
fn parse_metric(
    meta: &ParseNestedMeta<'_>,
    kind: Kind,
    default: &str,
    cx: &Ctxt,
) -> syn::Result<Metric> {
    let mut metric = Metric::default_for(default);
    metric.name_span = meta.path.span();
    if meta.input.peek(syn::Token![=]) {
        return Err(meta.error(format!(
            "expected `{0}` or `{0}(...)`, not `{0} = ...`",
            path_key(&meta.path)
        )));
    }
    if !meta.input.peek(syn::token::Paren) {
        return Ok(metric);
    }
    let keys = if kind == Kind::DurationHistogram {
        HISTOGRAM_KEYS
    } else {
        METRIC_KEYS
    };
    let mut seen: Vec<String> = Vec::new();
    meta.parse_nested_meta(|inner| {
        let span = inner.path.span();
        let key = path_key(&inner.path);
        if keys.contains(&key.as_str()) {
            if seen.contains(&key) {
                cx.error(span, format!("`{key}` given twice"));
                skip_value(&inner)?;
                return Ok(());
            }
            seen.push(key.clone());
        }
        match key.as_str() {
            "name" => {
                let lit: LitStr = inner.value()?.parse()?;
                if let Err(v) = names::check_metric_name(&lit.value(), kind) {
                    cx.error(lit.span(), v.render());
                }
                metric.name = lit.value();
                metric.name_span = lit.span();
            }
            "help" => {
                let lit: LitStr = inner.value()?.parse()?;
                if lit.value().trim().is_empty() {
                    cx.error(
                        lit.span(),
                        "`help` is empty; describe what the metric counts or measures",
                    );
                }
                metric.help = Some(lit.value());
            }
            "buckets" if kind == Kind::DurationHistogram => {
                let expr: Expr = inner.value()?.parse()?;
                match buckets::parse(&expr) {
                    Ok(b) => metric.buckets = Some(b),
                    Err(e) => cx.push(e),
                }
            }
            _ => {
                cx.error(span, unknown_key(&key, keys));
                skip_value(&inner)?;
            }
        }
        Ok(())
    })?;
    Ok(metric)
}

fn no_value(meta: &ParseNestedMeta<'_>, key: &str, cx: &Ctxt) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) || meta.input.peek(syn::token::Paren) {
        cx.error(
            meta.path.span(),
            format!("`{key}` takes no value: write `#[observe({key})]`"),
        );
        skip_value(meta)?;
    }
    Ok(())
}

/// Consumes `= value` or `(...)` after a key that was rejected, so parsing can go on.
pub(crate) fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        meta.value()?.parse::<Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in meta.input);
        content.parse::<TokenStream>()?;
    }
    Ok(())
}

pub(crate) fn path_key(path: &Path) -> String {
    if let Some(ident) = path.get_ident() {
        return ident.to_string().trim_start_matches("r#").to_string();
    }
    quote::quote!(#path).to_string().replace(' ', "")
}

pub(crate) fn unknown_key(key: &str, valid: &[&str]) -> String {
    let list = valid
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match names::closest(key, valid) {
        Some(s) => format!("unknown option `{key}`; did you mean `{s}`? expected one of {list}"),
        None => format!("unknown option `{key}`; expected one of {list}"),
    }
}

/// Whether an attribute is `#[observe(...)]` or `#[mvi::observe(...)]` (any path ending in `observe`).
pub(crate) fn is_observe_attr(attr: &syn::Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "observe")
}

/// The options of an inner `observe` attribute (empty for a bare `#[observe]`).
pub(crate) fn attr_args(attr: &syn::Attribute) -> TokenStream {
    match &attr.meta {
        syn::Meta::List(list) => list.tokens.clone(),
        _ => TokenStream::new(),
    }
}

/// `function` label of a method in an `impl` block: `Type::method`.
pub(crate) fn type_label(ty: &syn::Type) -> String {
    match ty {
        syn::Type::Path(p) => p
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default(),
        syn::Type::Reference(r) => type_label(&r.elem),
        syn::Type::Group(g) => type_label(&g.elem),
        syn::Type::Paren(p) => type_label(&p.elem),
        other => quote::quote!(#other).to_string().replace(' ', ""),
    }
}

pub(crate) fn ident_label(ident: &Ident) -> String {
    ident.to_string().trim_start_matches("r#").to_string()
}
