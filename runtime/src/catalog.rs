//! The catalog: every metric the macros declare, collected at link time.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use serde::Serialize;

/// What kind of metric a declaration is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricKind {
    /// A monotonic counter (`_total`).
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// A histogram with fixed buckets.
    Histogram,
}

impl fmt::Display for MetricKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
            MetricKind::Histogram => "histogram",
        })
    }
}

/// Where a metric is declared.
#[derive(Debug, Serialize)]
pub struct Location {
    /// Source file.
    pub file: &'static str,
    /// Line of the annotated item.
    pub line: u32,
    /// Column of the annotated item.
    pub column: u32,
    /// The annotated function (`Type::method` for methods).
    pub function: &'static str,
    /// The module the function is in (`module_path!()`): with `function`, what tells its series apart.
    pub module: &'static str,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{} (`{}`)",
            self.file, self.line, self.column, self.function
        )
    }
}

/// One metric as one macro use declares it. Built by the macros; read it through [`catalog()`](crate::catalog).
#[derive(Debug)]
pub struct MetricDecl {
    /// Metric name.
    pub name: &'static str,
    /// Metric kind.
    pub kind: MetricKind,
    /// HELP text.
    pub help: &'static str,
    /// Unit (`seconds`), or empty.
    pub unit: &'static str,
    /// Label names known to the macro, in order.
    pub labels: &'static [&'static str],
    /// Label names of a typed label set (`labels = arg`), after `labels`.
    pub typed_labels: &'static [&'static str],
    /// Each typed label's closed value set, or `None` where it is open.
    pub typed_values: &'static [Option<&'static [&'static str]>],
    /// Histogram bucket bounds (empty for other kinds).
    pub buckets: &'static [f64],
    /// `max_series = n`: this declaration's cap on label sets, instead of the global one.
    pub max_series: Option<usize>,
    /// Values of `labels` known at compile time, one entry per series. Each series, crossed with every
    /// combination of `typed_values` when all are closed, gets a zero-valued series at install.
    pub series: &'static [&'static [&'static str]],
    /// Where the declaration is.
    pub location: Location,
}

#[linkme::distributed_slice]
#[doc(hidden)]
pub static CATALOG: [MetricDecl];

/// A metric name with everything declared for it.
#[derive(Debug, Serialize)]
pub struct CatalogEntry {
    /// Metric name.
    pub name: &'static str,
    /// Kind (every declaration of a name has the same, or `install` refuses to start).
    pub kind: MetricKind,
    /// HELP text of the first declaration.
    pub help: &'static str,
    /// Unit, or empty.
    pub unit: &'static str,
    /// Every declaration, in source order, each with its own labels and buckets: a series' shape
    /// belongs to its call site.
    pub declarations: Vec<Declaration>,
    #[serde(skip)]
    pub(crate) decls: Vec<&'static MetricDecl>,
}

/// One declaration of a metric, as the contract JSON shows it.
#[derive(Debug, Serialize)]
pub struct Declaration {
    /// The `function` label (the handler's name for `#[traced_handler]`).
    pub function: &'static str,
    /// The `module` the declaration is in.
    pub module: &'static str,
    /// Every label name its series carry.
    pub labels: Vec<&'static str>,
    /// Bucket bounds (histograms).
    #[serde(skip_serializing_if = "<[f64]>::is_empty")]
    pub buckets: &'static [f64],
    /// Source file.
    pub file: &'static str,
    /// Line of the annotated item.
    pub line: u32,
}

/// Two declarations of one metric name that would break the exposition or make it ambiguous: one
/// name with two kinds, or two shapes (label names, buckets) for the same series.
#[derive(Debug)]
pub struct Conflict {
    /// The metric name.
    pub name: &'static str,
    /// What differs: `kind`, `labels` or `buckets`; or `declaration`, a second declaration of a metric
    /// of `mvi::metrics!`.
    pub what: &'static str,
    /// The first declaration.
    pub first: &'static MetricDecl,
    /// The declaration that disagrees with it.
    pub second: &'static MetricDecl,
}

impl MetricDecl {
    /// Every label name: `labels`, then `typed_labels`.
    pub fn label_names(&self) -> Vec<&'static str> {
        self.labels
            .iter()
            .chain(self.typed_labels)
            .copied()
            .collect()
    }

    /// The label values of every series that exists before the first call.
    pub fn zero_series(&self) -> Vec<Vec<&'static str>> {
        let mut out: Vec<Vec<&'static str>> = self.series.iter().map(|s| s.to_vec()).collect();
        for values in self.typed_values {
            let Some(values) = values else {
                return Vec::new();
            };
            out = out
                .iter()
                .flat_map(|prefix| {
                    values
                        .iter()
                        .map(move |v| [prefix.as_slice(), &[*v]].concat())
                })
                .collect();
        }
        out
    }
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (first, second) = (self.first, self.second);
        match self.what {
            "kind" => write!(
                f,
                "metric `{}` is declared as a {} at {} but as a {} at {}; one name has one kind, so give one of them its own name, like `{}`",
                self.name,
                first.kind,
                first.location,
                second.kind,
                second.location,
                self.suggestion(),
            ),
            "declaration" => write!(
                f,
                "metric `{}` is declared at {} and again at {}; a metric of `mvi::metrics!` is declared once, and nothing else records it, so remove one declaration or give one of them its own name, like `{}`",
                self.name,
                first.location,
                second.location,
                self.suggestion(),
            ),
            what => {
                let show = |d: &MetricDecl| match what {
                    "labels" => format!("{:?}", d.label_names()),
                    _ => format!("{:?}", d.buckets),
                };
                write!(
                    f,
                    "metric `{}` of function `{}` in module `{}` is declared with different {what}: {} at {} but {} at {}; both feed the same series, which can have only one shape, so give one of them its own name, like `{}`",
                    self.name,
                    first.location.function,
                    first.location.module,
                    show(first),
                    first.location,
                    show(second),
                    second.location,
                    self.suggestion(),
                )
            }
        }
    }
}

impl Conflict {
    /// A name of its own for the second declaration, derived from its function: `cart_add_calls_total`,
    /// or from its module and static for a declaration of `mvi::metrics!`: `PAID: "billing_paid_total"`.
    fn suggestion(&self) -> String {
        if self.second.labels.is_empty() {
            let location = &self.second.location;
            let module = location.module.rsplit("::").next().unwrap_or_default();
            let stem = format!("{module}_{}", location.function.to_ascii_lowercase());
            let name = match self.second.kind {
                MetricKind::Counter => format!("{stem}_total"),
                MetricKind::Gauge | MetricKind::Histogram => stem,
            };
            return format!("{}: \"{name}\"", self.second.location.function);
        }
        let mut stem = String::new();
        for c in self.second.location.function.chars() {
            if c.is_ascii_uppercase() {
                if !stem.is_empty() && !stem.ends_with('_') {
                    stem.push('_');
                }
                stem.push(c.to_ascii_lowercase());
            } else if c.is_ascii_alphanumeric() {
                stem.push(c);
            } else if !stem.ends_with('_') {
                stem.push('_');
            }
        }
        match self.second.kind {
            MetricKind::Counter => format!("counter(name = \"{stem}_calls_total\")"),
            MetricKind::Histogram => format!("histogram(name = \"{stem}_duration_seconds\")"),
            MetricKind::Gauge => format!("concurrency(name = \"{stem}_calls_concurrent\")"),
        }
    }
}

/// The metric contract of the program: every metric declared by `#[observe]` and friends.
#[derive(Debug, Serialize)]
pub struct Catalog {
    metrics: Vec<CatalogEntry>,
    #[serde(skip)]
    conflicts: Vec<Conflict>,
}

impl Catalog {
    /// One entry per metric name, sorted by name.
    pub fn metrics(&self) -> &[CatalogEntry] {
        &self.metrics
    }

    /// The entry for one name.
    pub fn get(&self, name: &str) -> Option<&CatalogEntry> {
        self.metrics.iter().find(|m| m.name == name)
    }

    /// Declarations that disagree; [`install`](crate::TelemetryBuilder::install) refuses to start while any exist.
    pub fn conflicts(&self) -> &[Conflict] {
        &self.conflicts
    }

    /// The catalog as pretty JSON, for diffing the metric contract in CI.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    fn build(decls: &'static [MetricDecl]) -> Catalog {
        let mut by_name: BTreeMap<&'static str, Vec<&'static MetricDecl>> = BTreeMap::new();
        let mut sorted: Vec<&'static MetricDecl> = decls.iter().collect();
        sorted.sort_by_key(|d| (d.location.file, d.location.line, d.location.column));
        for d in sorted {
            by_name.entry(d.name).or_default().push(d);
        }
        let mut conflicts = Vec::new();
        let metrics = by_name
            .into_iter()
            .map(|(name, decls)| {
                for (i, &second) in decls.iter().enumerate() {
                    if let Some((first, what)) = decls[..i]
                        .iter()
                        .find_map(|&first| Some((first, conflict(first, second)?)))
                    {
                        conflicts.push(Conflict {
                            name,
                            what,
                            first,
                            second,
                        });
                    }
                }
                let first = decls[0];
                CatalogEntry {
                    name,
                    kind: first.kind,
                    help: first.help,
                    unit: first.unit,
                    declarations: decls
                        .iter()
                        .map(|d| Declaration {
                            function: d.location.function,
                            module: d.location.module,
                            labels: d.label_names(),
                            buckets: d.buckets,
                            file: d.location.file,
                            line: d.location.line,
                        })
                        .collect(),
                    decls,
                }
            })
            .collect();
        Catalog { metrics, conflicts }
    }
}

/// What makes two declarations of one name conflict, if anything: another kind, or another shape for
/// the same series. Series are told apart by their `function` and `module` labels where the
/// declaration knows them at compile time (its zero series name them); a handler's series (told apart
/// by `route`) and a lone method's (by its type, resolved at the first call) are only known at run
/// time, where the store refuses a second shape.
///
/// A declaration of `mvi::metrics!` has no call-site labels (`labels` is empty): nothing tells its
/// series apart from another declaration's, so its name is its own, and any other declaration of that
/// name conflicts with it.
fn conflict(first: &MetricDecl, second: &MetricDecl) -> Option<&'static str> {
    if first.kind != second.kind {
        return Some("kind");
    }
    if first.labels.is_empty() || second.labels.is_empty() {
        return Some("declaration");
    }
    let known = |d: &MetricDecl| !d.series.is_empty();
    let same_series = known(first)
        && known(second)
        && first.location.function == second.location.function
        && first.location.module == second.location.module;
    if !same_series {
        None
    } else if first.label_names() != second.label_names() {
        Some("labels")
    } else if first.buckets != second.buckets {
        Some("buckets")
    } else {
        None
    }
}

/// The catalog of this program, built once from the link-time collection.
pub fn catalog() -> &'static Catalog {
    static CELL: OnceLock<Catalog> = OnceLock::new();
    CELL.get_or_init(|| Catalog::build(&CATALOG))
}
