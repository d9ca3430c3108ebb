//! Parse step of `#[observe(...)]`: the options as written, with the syn nodes kept for spans. Only
//! the syntax is checked here (unknown, repeated or malformed options); every rule is in `valid.rs`.

use proc_macro2::{Span, TokenStream};
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{Expr, LitInt, LitStr, Path};

use crate::attr::{self, Keys};
use crate::buckets;
use crate::ctxt::Ctxt;

const TOP_KEYS: &[&str] = &[
    "counter",
    "histogram",
    "concurrency",
    "labels",
    "error_if",
    "skip",
    "max_series",
    "span",
    "crate",
];
const METRIC_KEYS: &[&str] = &["name", "help"];
const HISTOGRAM_KEYS: &[&str] = &["buckets", "name", "help"];
const SPAN_KEYS: &[&str] = &["parent"];

/// One `#[observe(...)]` attribute.
#[derive(Default)]
pub(crate) struct Attr {
    pub(crate) skip: bool,
    pub(crate) counter: Option<MetricAttr>,
    pub(crate) histogram: Option<MetricAttr>,
    pub(crate) concurrency: Option<MetricAttr>,
    pub(crate) labels: Option<LabelsAttr>,
    pub(crate) error_if: Option<Expr>,
    pub(crate) max_series: Option<LitInt>,
    pub(crate) span: Option<SpanAttr>,
    pub(crate) krate: Option<Path>,
}

/// `span`, or `span(parent = expr)`.
pub(crate) struct SpanAttr {
    /// The `span` keyword.
    pub(crate) keyword: Span,
    /// Where the parent comes from, instead of the current context.
    pub(crate) parent: Option<Expr>,
}

/// `counter`, `histogram(...)` or `concurrency(...)`.
pub(crate) struct MetricAttr {
    /// The `counter`/`histogram`/`concurrency` keyword.
    pub(crate) keyword: Span,
    pub(crate) name: Option<LitStr>,
    pub(crate) help: Option<LitStr>,
    /// Histograms only.
    pub(crate) buckets: Option<buckets::Spec>,
}

pub(crate) enum LabelsAttr {
    /// `labels(key = expr, ...)`, with the span of `labels`.
    List {
        keyword: Span,
        labels: Vec<LabelArg>,
    },
    /// `labels = expr`: a value of a type deriving `Labels`.
    Typed(Expr),
}

/// `key = expr` inside `labels(...)`.
pub(crate) struct LabelArg {
    pub(crate) name: String,
    /// The key as written.
    pub(crate) span: Span,
    pub(crate) value: Expr,
}

impl Attr {
    /// Parses the attribute's arguments; errors go to `cx` and parsing goes on where it can.
    pub(crate) fn parse(args: TokenStream, cx: &Ctxt) -> Attr {
        let mut attr = Attr::default();
        let mut keys = Keys::new(TOP_KEYS);
        let parser = syn::meta::parser(|meta| match keys.accept(&meta, cx)? {
            Some(key) => attr.option(key, &meta, cx),
            None => Ok(()),
        });
        if let Err(e) = parser.parse2(args) {
            cx.push(e);
        }
        attr
    }

    /// The options of an inner `#[observe(...)]` on a method (empty for a bare `#[observe]`).
    pub(crate) fn parse_inner(attr: &syn::Attribute, cx: &Ctxt) -> Attr {
        match &attr.meta {
            syn::Meta::List(list) => Attr::parse(list.tokens.clone(), cx),
            _ => Attr::default(),
        }
    }

    fn option(&mut self, key: &str, meta: &ParseNestedMeta<'_>, cx: &Ctxt) -> syn::Result<()> {
        match key {
            "skip" => {
                self.skip = true;
                if meta.input.peek(syn::Token![=]) || meta.input.peek(syn::token::Paren) {
                    cx.error(
                        meta.path.span(),
                        "`skip` takes no value: write `#[observe(skip)]`",
                    );
                    attr::skip_value(meta)?;
                }
            }
            "counter" => self.counter = Some(MetricAttr::parse(meta, METRIC_KEYS, cx)?),
            "histogram" => self.histogram = Some(MetricAttr::parse(meta, HISTOGRAM_KEYS, cx)?),
            "concurrency" => self.concurrency = Some(MetricAttr::parse(meta, METRIC_KEYS, cx)?),
            "labels" if meta.input.peek(syn::Token![=]) => {
                self.labels = Some(LabelsAttr::Typed(meta.value()?.parse()?));
            }
            "labels" => {
                let mut labels = Vec::new();
                meta.parse_nested_meta(|label| {
                    labels.push(LabelArg {
                        name: attr::path_key(&label.path),
                        span: label.path.span(),
                        value: label.value()?.parse()?,
                    });
                    Ok(())
                })?;
                self.labels = Some(LabelsAttr::List {
                    keyword: meta.path.span(),
                    labels,
                });
            }
            "span" => self.span = Some(SpanAttr::parse(meta, cx)?),
            "max_series" => self.max_series = Some(meta.value()?.parse()?),
            "error_if" => self.error_if = Some(meta.value()?.parse()?),
            _ => self.krate = Some(attr::crate_path(meta)?),
        }
        Ok(())
    }
}

impl SpanAttr {
    fn parse(meta: &ParseNestedMeta<'_>, cx: &Ctxt) -> syn::Result<SpanAttr> {
        let mut span = SpanAttr {
            keyword: meta.path.span(),
            parent: None,
        };
        if meta.input.peek(syn::Token![=]) {
            cx.error(
                meta.path.span(),
                "`span` takes no value: write `span`, or `span(parent = ...)` to name the parent",
            );
            attr::skip_value(meta)?;
        } else if meta.input.peek(syn::token::Paren) {
            let mut keys = Keys::new(SPAN_KEYS);
            meta.parse_nested_meta(|inner| {
                if keys.accept(&inner, cx)?.is_some() {
                    span.parent = Some(inner.value()?.parse()?);
                }
                Ok(())
            })?;
        }
        Ok(span)
    }
}

impl MetricAttr {
    /// `counter`, `counter(name = "...", help = "...")`, `histogram(buckets = ..., ...)`.
    fn parse(
        meta: &ParseNestedMeta<'_>,
        keys: &'static [&'static str],
        cx: &Ctxt,
    ) -> syn::Result<MetricAttr> {
        let mut metric = MetricAttr {
            keyword: meta.path.span(),
            name: None,
            help: None,
            buckets: None,
        };
        if meta.input.peek(syn::Token![=]) {
            return Err(meta.error(format!(
                "expected `{0}` or `{0}(...)`, not `{0} = ...`",
                attr::path_key(&meta.path)
            )));
        }
        if !meta.input.peek(syn::token::Paren) {
            return Ok(metric);
        }
        let mut keys = Keys::new(keys);
        meta.parse_nested_meta(|inner| {
            match keys.accept(&inner, cx)? {
                Some("name") => metric.name = Some(inner.value()?.parse()?),
                Some("help") => metric.help = Some(inner.value()?.parse()?),
                Some(_) => match buckets::Spec::parse(&inner.value()?.parse()?) {
                    Ok(spec) => metric.buckets = Some(spec),
                    Err(e) => cx.push(e),
                },
                None => {}
            }
            Ok(())
        })?;
        Ok(metric)
    }
}
