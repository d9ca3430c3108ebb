//! Validation step of `mvi::metrics!`: every rule, in one place, turning the parsed declarations into
//! the checked model that `expand.rs` prints. Each mistake is reported once, spanned on its token, and
//! the declaration is still expanded wherever that can be done, so its uses type-check.

use proc_macro2::Span;
use syn::{Attribute, Expr, ExprLit, Ident, Lit, Meta, Path, Type, Visibility};

use super::ast::{Input, Item, KINDS, LabelDecl};
use crate::attr::{closest, ident_name};
use crate::ctxt::Ctxt;
use crate::names::{self, Kind};

/// Most labels one metric takes.
const MAX_LABELS: usize = 8;

/// What `metrics!` expands to, every rule checked.
pub(crate) struct Checked {
    pub(crate) krate: Path,
    pub(crate) metrics: Vec<Metric>,
}

/// One declared metric.
pub(crate) struct Metric {
    /// Every attribute as written, the doc comment included: they go on the `static`.
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) ident: Ident,
    pub(crate) kind: Kind,
    /// `gauge(callback)`: read at each scrape, never set.
    pub(crate) callback: bool,
    pub(crate) name: String,
    /// The name literal (the static's name when the name is not a literal).
    pub(crate) name_span: Span,
    pub(crate) help: String,
    /// The unit (`bytes`, `euros`), or empty.
    pub(crate) unit: String,
    pub(crate) labels: Vec<Label>,
    /// Histograms: `None` for the runtime's default (duration) buckets.
    pub(crate) buckets: Option<Vec<f64>>,
    pub(crate) max_series: Option<usize>,
}

/// One label: its name, and its type as declared.
pub(crate) struct Label {
    pub(crate) ident: Ident,
    pub(crate) name: String,
    pub(crate) ty: Type,
}

pub(crate) fn check(input: Input, cx: &Ctxt) -> Checked {
    let mut metrics: Vec<Metric> = Vec::new();
    for item in input.items {
        let Some(m) = metric(item, cx) else { continue };
        if metrics.iter().any(|f| f.ident == m.ident) {
            // Left out: a second static of the same name would be reported again by rustc.
            cx.error(
                m.ident.span(),
                format!("`{}` is declared twice in this block", m.ident),
            );
            continue;
        }
        if let Some(first) = metrics
            .iter()
            .find(|f| !m.name.is_empty() && f.name == m.name)
        {
            cx.error(
                m.name_span,
                format!(
                    "metric `{}` is declared twice in this block, first as `{}`; a metric has one declaration",
                    m.name, first.ident
                ),
            );
        }
        metrics.push(m);
    }
    Checked {
        krate: crate::attr::krate(input.krate),
        metrics,
    }
}

fn metric(item: Item, cx: &Ctxt) -> Option<Metric> {
    let kind_word = kind_word(&item.kind, cx)?;
    let (name, name_span) = match &item.name {
        Some(lit) => (lit.value(), lit.span()),
        None => (String::new(), item.ident.span()),
    };
    let kind = match kind_word {
        "counter" => Kind::Counter,
        "gauge" => Kind::Gauge,
        _ if name.ends_with("_seconds") => Kind::DurationHistogram,
        _ => Kind::ValueHistogram,
    };
    let name_ok = item.name.is_some()
        && names::check_metric_name(&name, kind)
            .map_err(|v| cx.error(name_span, v.render()))
            .is_ok();
    let unit = match &item.options.unit {
        Some(lit) => {
            let unit = lit.value();
            if let Err(v) = names::check_unit(&unit) {
                cx.error(lit.span(), v.render());
            } else if let (true, Err(v)) =
                (name_ok, names::check_name_ends_in_unit(&name, &unit, kind))
            {
                cx.error(name_span, v.render());
            }
            unit
        }
        None if kind == Kind::DurationHistogram => "seconds".to_string(),
        None => names::unit_in_name(&name).unwrap_or_default().to_string(),
    };
    let help = help(&item.attrs).unwrap_or_else(|| {
        cx.error(
            item.ident.span(),
            format!(
                "document `{}` with a doc comment (`/// ...`): its first paragraph is the metric's HELP text",
                item.ident
            ),
        );
        String::new()
    });
    let labels = labels(item.labels, item.labels_span, cx);
    let options = item.options;
    let buckets = options
        .buckets
        .as_ref()
        .and_then(|spec| spec.check().map_err(|e| cx.push(e)).ok());
    if kind == Kind::ValueHistogram && options.buckets.is_none() && !options.rejected {
        cx.error(
            item.kind.span(),
            "a histogram of values needs its buckets, like `histogram(buckets = exponential(1, 2, 10))`: only duration histograms (`_seconds`) have default buckets",
        );
    }
    let max_series = options.max_series.and_then(|lit| {
        if labels.is_empty() {
            cx.error(
                lit.span(),
                "`max_series` caps label sets, and this metric has none: add labels or remove it",
            );
            return None;
        }
        match lit.base10_parse::<usize>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                cx.error(
                    lit.span(),
                    "`max_series` is the most label sets a metric may have: a whole number of at least 1",
                );
                None
            }
        }
    });
    Some(Metric {
        attrs: item.attrs,
        vis: item.vis,
        ident: item.ident,
        kind,
        callback: options.callback.is_some(),
        name,
        name_span,
        help,
        unit,
        labels,
        buckets,
        max_series,
    })
}

/// The kind as written, or the likely one for a typo (reported), so the declaration is still expanded.
fn kind_word(kind: &Ident, cx: &Ctxt) -> Option<&'static str> {
    let written = ident_name(kind);
    if let Some(known) = KINDS.iter().find(|k| **k == written) {
        return Some(known);
    }
    let list = KINDS
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let guess = closest(&written, KINDS);
    let message = match guess {
        Some(k) => {
            format!("unknown metric kind `{written}`; did you mean `{k}`? expected one of {list}")
        }
        None => format!("unknown metric kind `{written}`; expected one of {list}"),
    };
    cx.error(kind.span(), message);
    guess
}

/// The first paragraph of the doc comment, on one line.
fn help(attrs: &[Attribute]) -> Option<String> {
    let docs: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let paragraph: Vec<&str> = docs
        .iter()
        .flat_map(|d| d.split('\n'))
        .map(str::trim)
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty())
        .collect();
    (!paragraph.is_empty()).then(|| paragraph.join(" "))
}

/// Label names checked; a repeated one is left out, so the methods do not take it twice.
fn labels(decls: Vec<LabelDecl>, span: Span, cx: &Ctxt) -> Vec<Label> {
    if decls.len() > MAX_LABELS {
        cx.error(
            span,
            format!(
                "{} labels given; at most {MAX_LABELS} are allowed",
                decls.len()
            ),
        );
    }
    let mut labels: Vec<Label> = Vec::new();
    for decl in decls {
        let name = ident_name(&decl.ident);
        if let Err(v) = names::check_label_name(&name, &[]) {
            cx.error(decl.ident.span(), v.render());
        } else if labels.iter().any(|l| l.name == name) {
            cx.error(decl.ident.span(), format!("label `{name}` given twice"));
            continue;
        }
        labels.push(Label {
            ident: decl.ident,
            name,
            ty: decl.ty,
        });
    }
    labels
}
