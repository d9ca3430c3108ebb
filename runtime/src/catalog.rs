//! The catalog: every metric the macros declare, collected at link time.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use serde::Serialize;

/// What kind of metric a declaration is.
///
/// # Examples
///
/// ```standalone_crate
/// #[mvi::observe]
/// fn charge() {}
///
/// let calls = mvi::catalog().get("function_calls_total").unwrap();
/// assert_eq!(calls.kind, mvi::MetricKind::Counter);
/// assert_eq!(calls.kind.to_string(), "counter");
/// ```
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
///
/// # Examples
///
/// ```
/// let location = mvi::Location {
///     file: "src/shop.rs",
///     line: 12,
///     column: 1,
///     function: "Shop::place",
///     module: "shop",
/// };
/// // How `install()`'s conflict messages name a place.
/// assert_eq!(location.to_string(), "src/shop.rs:12:1 (`Shop::place`)");
/// ```
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
///
/// # Examples
///
/// The macros build one as a `static` per metric and call site; this is what
/// `#[observe(histogram(buckets = [0.1, 1.0]))] fn charge()` declares:
///
/// ```
/// static CHARGE: mvi::MetricDecl = mvi::MetricDecl {
///     name: "function_calls_duration_seconds",
///     kind: mvi::MetricKind::Histogram,
///     help: "Duration of calls of observed functions, in seconds.",
///     unit: "seconds",
///     labels: &["function", "module"],
///     typed_labels: &[],
///     typed_values: &[],
///     buckets: &[0.1, 1.0],
///     max_series: None,
///     series: &[&["charge", "shop"]],
///     location: mvi::Location {
///         file: "src/shop.rs",
///         line: 3,
///         column: 1,
///         function: "charge",
///         module: "shop",
///     },
/// };
/// assert_eq!(CHARGE.label_names(), ["function", "module"]);
/// assert_eq!(CHARGE.zero_series(), [["charge", "shop"]]);
/// ```
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
///
/// # Examples
///
/// ```standalone_crate
/// #[mvi::observe(histogram(buckets = [0.1, 1.0]))]
/// fn charge() {}
///
/// let entry: &mvi::CatalogEntry = mvi::catalog().get("function_calls_duration_seconds").unwrap();
/// assert_eq!(entry.kind, mvi::MetricKind::Histogram);
/// assert_eq!(entry.unit, "seconds");
/// assert_eq!(entry.declarations.len(), 1);
/// ```
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
///
/// # Examples
///
/// ```standalone_crate
/// #[mvi::observe(histogram(buckets = [0.1, 1.0]), labels(tier = "gold"))]
/// fn charge() {}
///
/// let entry = mvi::catalog().get("function_calls_duration_seconds").unwrap();
/// let declaration: &mvi::Declaration = &entry.declarations[0];
/// assert_eq!(declaration.function, "charge");
/// assert_eq!(declaration.labels, ["function", "module", "tier"]);
/// assert_eq!(declaration.buckets, [0.1, 1.0]);
/// ```
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
///
/// # Examples
///
/// ```standalone_crate
/// #[mvi::observe(histogram(name = "work_seconds"))]
/// fn timed() {}
///
/// #[mvi::observe(concurrency(name = "work_seconds"))]
/// fn in_flight() {}
///
/// let conflict: &mvi::Conflict = &mvi::catalog().conflicts()[0];
/// assert_eq!((conflict.name, conflict.what), ("work_seconds", "kind"));
/// assert_eq!(conflict.first.location.function, "timed");
/// assert_eq!(conflict.second.location.function, "in_flight");
/// // And `install()` refuses to start, naming both places.
/// assert!(matches!(
///     mvi::Telemetry::builder().without_admin_server().without_logs().install(),
///     Err(mvi::Error::CatalogConflict { .. })
/// ));
/// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// static SHIP: mvi::MetricDecl = mvi::MetricDecl {
    ///     name: "function_calls_total",
    ///     kind: mvi::MetricKind::Counter,
    ///     help: "Calls of observed functions, by result.",
    ///     unit: "",
    ///     labels: &["function", "module", "result"],
    ///     typed_labels: &["region"],
    ///     typed_values: &[Some(&["eu", "us"])],
    ///     buckets: &[],
    ///     max_series: None,
    ///     series: &[&["ship", "shop", "ok"], &["ship", "shop", "error"]],
    ///     location: mvi::Location { file: "src/shop.rs", line: 9, column: 1, function: "ship", module: "shop" },
    /// };
    /// assert_eq!(SHIP.label_names(), ["function", "module", "result", "region"]);
    /// ```
    pub fn label_names(&self) -> Vec<&'static str> {
        self.labels
            .iter()
            .chain(self.typed_labels)
            .copied()
            .collect()
    }

    /// The label values of every series that exists before the first call.
    ///
    /// # Examples
    ///
    /// ```
    /// static SHIP: mvi::MetricDecl = mvi::MetricDecl {
    ///     name: "function_calls_total",
    ///     kind: mvi::MetricKind::Counter,
    ///     help: "Calls of observed functions, by result.",
    ///     unit: "",
    ///     labels: &["function", "module", "result"],
    ///     typed_labels: &["region"],
    ///     typed_values: &[Some(&["eu", "us"])],
    ///     buckets: &[],
    ///     max_series: None,
    ///     series: &[&["ship", "shop", "ok"], &["ship", "shop", "error"]],
    ///     location: mvi::Location { file: "src/shop.rs", line: 9, column: 1, function: "ship", module: "shop" },
    /// };
    /// assert_eq!(
    ///     SHIP.zero_series(),
    ///     [
    ///         ["ship", "shop", "ok", "eu"],
    ///         ["ship", "shop", "ok", "us"],
    ///         ["ship", "shop", "error", "eu"],
    ///         ["ship", "shop", "error", "us"],
    ///     ]
    /// );
    /// ```
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
///
/// # Examples
///
/// ```standalone_crate
/// #[mvi::observe]
/// fn charge() {}
///
/// let catalog: &mvi::Catalog = mvi::catalog();
/// let names: Vec<&str> = catalog.metrics().iter().map(|m| m.name).collect();
/// assert!(names.contains(&"function_calls_duration_seconds"));
/// assert!(names.contains(&"function_calls_total"));
/// assert!(catalog.conflicts().is_empty());
/// ```
#[derive(Debug, Serialize)]
pub struct Catalog {
    metrics: Vec<CatalogEntry>,
    #[serde(skip)]
    conflicts: Vec<Conflict>,
}

impl Catalog {
    /// One entry per metric name, sorted by name.
    ///
    /// # Examples
    ///
    /// ```standalone_crate
    /// #[mvi::observe(concurrency)]
    /// async fn fetch() {}
    ///
    /// let ours: Vec<(&str, String)> = mvi::catalog()
    ///     .metrics()
    ///     .iter()
    ///     .filter(|m| m.name.starts_with("function_calls"))
    ///     .map(|m| (m.name, m.kind.to_string()))
    ///     .collect();
    /// assert_eq!(ours, [("function_calls_concurrent", "gauge".to_string())]);
    /// ```
    pub fn metrics(&self) -> &[CatalogEntry] {
        &self.metrics
    }

    /// The entry for one name.
    ///
    /// # Examples
    ///
    /// ```standalone_crate
    /// #[mvi::observe(counter(name = "orders_placed_total", help = "Orders accepted by checkout."))]
    /// fn place() {}
    ///
    /// let orders = mvi::catalog().get("orders_placed_total").unwrap();
    /// assert_eq!(orders.help, "Orders accepted by checkout.");
    /// assert!(mvi::catalog().get("function_calls_total").is_none());
    /// ```
    pub fn get(&self, name: &str) -> Option<&CatalogEntry> {
        self.metrics.iter().find(|m| m.name == name)
    }

    /// Declarations that disagree; [`install`](crate::TelemetryBuilder::install) refuses to start while any exist.
    ///
    /// # Examples
    ///
    /// ```standalone_crate
    /// #[mvi::observe]
    /// fn charge() {}
    ///
    /// // A test that fails, naming both places, when two declarations disagree.
    /// for conflict in mvi::catalog().conflicts() {
    ///     panic!("{}: {} at {} and {}", conflict.name, conflict.what, conflict.first.location, conflict.second.location);
    /// }
    /// ```
    pub fn conflicts(&self) -> &[Conflict] {
        &self.conflicts
    }

    /// The catalog as pretty JSON, for diffing the metric contract in CI.
    ///
    /// # Examples
    ///
    /// ```standalone_crate
    /// #[mvi::observe]
    /// fn charge() {}
    ///
    /// let json: serde_json::Value = serde_json::from_str(&mvi::catalog().to_json()).unwrap();
    /// assert_eq!(json["metrics"][0]["name"], "function_calls_duration_seconds");
    /// assert_eq!(json["metrics"][0]["declarations"][0]["function"], "charge");
    /// ```
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
///
/// # Examples
///
/// ```standalone_crate
/// #[mvi::observe]
/// fn charge() {}
///
/// // `--catalog` in a service's `main`: print the metric contract and exit.
/// if std::env::args().any(|a| a == "--catalog") {
///     println!("{}", mvi::catalog().to_json());
///     return;
/// }
/// assert!(mvi::catalog().get("function_calls_total").is_some());
/// ```
pub fn catalog() -> &'static Catalog {
    static CELL: OnceLock<Catalog> = OnceLock::new();
    CELL.get_or_init(|| Catalog::build(&CATALOG))
}
