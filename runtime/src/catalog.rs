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
    /// Kind of the first declaration.
    pub kind: MetricKind,
    /// HELP text of the first declaration.
    pub help: &'static str,
    /// Unit, or empty.
    pub unit: &'static str,
    /// Label names of the first declaration.
    pub labels: Vec<&'static str>,
    /// Buckets of the first declaration (histograms).
    #[serde(skip_serializing_if = "<[f64]>::is_empty")]
    pub buckets: &'static [f64],
    /// Every place that declares this name, in source order.
    pub declared_at: Vec<&'static Location>,
    #[serde(skip)]
    pub(crate) decls: Vec<&'static MetricDecl>,
}

/// Two declarations of one metric name that disagree.
#[derive(Debug)]
pub struct Conflict {
    /// The metric name.
    pub name: &'static str,
    /// What differs: `kind`, `labels` or `buckets`.
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
        let show = |d: &MetricDecl| match self.what {
            "kind" => d.kind.to_string(),
            "labels" => format!("{:?}", d.label_names()),
            _ => format!("{:?}", d.buckets),
        };
        write!(
            f,
            "metric `{}` is declared with different {}: {} at {} but {} at {}; one name needs one definition, so give one of them its own name, like `{}`",
            self.name,
            self.what,
            show(self.first),
            self.first.location,
            show(self.second),
            self.second.location,
            self.suggestion(),
        )
    }
}

impl Conflict {
    /// A name of its own for the second declaration, derived from its function: `cart_add_calls_total`.
    fn suggestion(&self) -> String {
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
            MetricKind::Gauge => format!("concurrency(name = \"{stem}_in_flight\")"),
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
                let first = decls[0];
                for &other in &decls[1..] {
                    let what = if other.kind != first.kind {
                        Some("kind")
                    } else if other.label_names() != first.label_names() {
                        Some("labels")
                    } else if other.buckets != first.buckets {
                        Some("buckets")
                    } else {
                        None
                    };
                    if let Some(what) = what {
                        conflicts.push(Conflict {
                            name,
                            what,
                            first,
                            second: other,
                        });
                    }
                }
                CatalogEntry {
                    name,
                    kind: first.kind,
                    help: first.help,
                    unit: first.unit,
                    labels: first.label_names(),
                    buckets: first.buckets,
                    declared_at: decls.iter().map(|d| &d.location).collect(),
                    decls,
                }
            })
            .collect();
        Catalog { metrics, conflicts }
    }
}

/// The catalog of this program, built once from the link-time collection.
pub fn catalog() -> &'static Catalog {
    static CELL: OnceLock<Catalog> = OnceLock::new();
    CELL.get_or_init(|| Catalog::build(&CATALOG))
}
