//! The metric contract: the program's metrics as the queries, dashboards and alerts that read them see
//! them, committed as a file and checked by a test.
//!
//! ```no_run
//! #[test]
//! fn metric_contract() {
//!     // Fails on a removed or renamed metric, series or label, a changed kind or changed buckets;
//!     // lists additions and passes. `MVI_CONTRACT_BLESS=1 cargo test` writes the file anew.
//!     mvi::contract::check("metrics.contract.json");
//! }
//! ```
//!
//! An entry is what a query names: the metric's name and kind, and for each function that records it
//! (a `#[traced_handler]`'s series are told apart by `route`, which the router decides, so they are
//! listed under the handler function), the module, the label names and the buckets. Source files and
//! lines are not part of it, so an edit elsewhere in a file needs no re-bless; a failure names the
//! declaration's location as the program has it now.
//!
//! The catalog holds what is linked into the program that calls [`check`]: a test of a library sees
//! the library's metrics when it uses the library. A binary crate's metrics are checked either from a
//! library the binary and its tests share, or from the binary's own catalog (`mvi::catalog().to_json()`,
//! printed by a flag such as the demo's `--catalog`) with [`check_catalog_json`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The environment variable that makes [`check`] write the contract file anew.
///
/// # Examples
///
/// ```text
/// MVI_CONTRACT_BLESS=1 cargo test --test contract   # writes metrics.contract.json anew; review the diff
/// ```
///
/// ```
/// assert_eq!(mvi::contract::BLESS_ENV, "MVI_CONTRACT_BLESS");
/// ```
pub const BLESS_ENV: &str = "MVI_CONTRACT_BLESS";

/// Checks this program's catalog ([`catalog()`](crate::catalog)) against the contract file at `path`
/// (relative to the working directory: the package's root under `cargo test`).
///
/// # Panics
///
/// On a breaking change (a metric or one function's series of it removed or renamed, a changed kind,
/// a removed or renamed label, changed buckets), with every change and where it is declared now; when
/// the file is missing or unreadable. With `MVI_CONTRACT_BLESS=1` it writes the file instead and passes.
///
/// # Examples
///
/// ```no_run
/// // tests/contract.rs of a crate whose library declares its metrics:
/// #[test]
/// fn metric_contract() {
///     mvi::contract::check("metrics.contract.json");
/// }
/// ```
#[track_caller]
pub fn check(path: impl AsRef<Path>) {
    check_catalog_json(&crate::catalog().to_json(), path);
}

/// Checks a catalog printed by another program (`mvi::catalog().to_json()`, like the demo's
/// `--catalog`) against the contract file at `path`: how a binary crate's own metrics are checked.
///
/// # Panics
///
/// As [`check`]; also when `catalog_json` is not a catalog.
///
/// # Examples
///
/// ```no_run
/// // A binary crate's test: the binary prints its own catalog (`mvi::catalog().to_json()`) for a flag.
/// #[test]
/// fn metric_contract() {
///     let out = std::process::Command::new(env!("CARGO_BIN_EXE_shop")).arg("--catalog").output().unwrap();
///     mvi::contract::check_catalog_json(&String::from_utf8(out.stdout).unwrap(), "metrics.contract.json");
/// }
/// ```
#[track_caller]
pub fn check_catalog_json(catalog_json: &str, path: impl AsRef<Path>) {
    let current = Contract::from_catalog_json(catalog_json)
        .unwrap_or_else(|e| panic!("not a catalog printed by `mvi::catalog().to_json()`: {e}"));
    let bless = std::env::var(BLESS_ENV).is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"));
    if let Err(message) = current.check(path.as_ref(), bless) {
        panic!("{message}");
    }
}

/// The contract file's contents.
#[derive(Debug, Serialize, Deserialize)]
struct Contract {
    /// The format of this file.
    version: u32,
    metrics: Vec<Metric>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Metric {
    name: String,
    kind: String,
    /// One entry per function that records the metric.
    series: Vec<Series>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Series {
    function: String,
    module: String,
    labels: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    buckets: Vec<f64>,
    /// Where the catalog says it is declared; not written to the file.
    #[serde(skip)]
    at: Option<String>,
}

/// The catalog JSON, as far as the contract reads it.
#[derive(Deserialize)]
struct CatalogJson {
    metrics: Vec<CatalogMetric>,
}

#[derive(Deserialize)]
struct CatalogMetric {
    name: String,
    kind: String,
    declarations: Vec<CatalogDeclaration>,
}

#[derive(Deserialize)]
struct CatalogDeclaration {
    function: String,
    module: String,
    labels: Vec<String>,
    #[serde(default)]
    buckets: Vec<f64>,
    file: String,
    line: u32,
}

const VERSION: u32 = 1;

impl Contract {
    fn from_catalog_json(json: &str) -> Result<Contract, serde_json::Error> {
        let catalog: CatalogJson = serde_json::from_str(json)?;
        let mut metrics: Vec<Metric> = catalog
            .metrics
            .into_iter()
            .map(|m| {
                let mut series: Vec<Series> = Vec::new();
                for d in m.declarations {
                    // One function's declarations feed one series; the catalog refuses two shapes.
                    if series
                        .iter()
                        .any(|s| s.function == d.function && s.module == d.module)
                    {
                        continue;
                    }
                    series.push(Series {
                        function: d.function,
                        module: d.module,
                        labels: d.labels,
                        buckets: d.buckets,
                        at: Some(format!("{}:{}", d.file, d.line)),
                    });
                }
                series.sort_by(|a, b| (&a.module, &a.function).cmp(&(&b.module, &b.function)));
                Metric {
                    name: m.name,
                    kind: m.kind,
                    series,
                }
            })
            .collect();
        metrics.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Contract {
            version: VERSION,
            metrics,
        })
    }

    /// Pretty JSON with each series on one line, so a change shows as one changed line in a review.
    fn to_json(&self) -> String {
        let metrics: Vec<String> = self
            .metrics
            .iter()
            .map(|m| {
                let series: Vec<String> = m
                    .series
                    .iter()
                    .map(|s| format!("        {}", compact(s)))
                    .collect();
                format!(
                    "    {{\n      \"name\": {},\n      \"kind\": {},\n      \"series\": [\n{}\n      ]\n    }}",
                    compact(&m.name),
                    compact(&m.kind),
                    series.join(",\n")
                )
            })
            .collect();
        format!(
            "{{\n  \"version\": {},\n  \"metrics\": [\n{}\n  ]\n}}\n",
            self.version,
            metrics.join(",\n")
        )
    }

    /// Compares with the file at `path`, or writes it when blessing.
    fn check(&self, path: &Path, bless: bool) -> Result<(), String> {
        let shown = path.display();
        let how = format!(
            "if that is intended, write the contract anew with `{BLESS_ENV}=1 cargo test` and commit {shown}"
        );
        let text = match std::fs::read_to_string(path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(format!("cannot read the metric contract {shown}: {e}")),
        };
        if bless {
            let blessed = self.to_json();
            if text.as_deref() != Some(blessed.as_str()) {
                std::fs::write(path, blessed)
                    .map_err(|e| format!("cannot write the metric contract {shown}: {e}"))?;
                let changes = text
                    .and_then(|t| serde_json::from_str::<Contract>(&t).ok())
                    .map(|committed| self.compare(&committed).to_string())
                    .filter(|changes| !changes.is_empty());
                report(&format!(
                    "wrote the metric contract {shown}{}",
                    changes.map_or_else(String::new, |c| format!(":\n{c}"))
                ));
            }
            return Ok(());
        }
        let Some(text) = text else {
            return Err(format!(
                "no metric contract at {shown}; write it with `{BLESS_ENV}=1 cargo test` and commit it"
            ));
        };
        let committed: Contract = serde_json::from_str(&text)
            .map_err(|e| format!("{shown} is not a metric contract ({e}); {how}"))?;
        let comparison = self.compare(&committed);
        if !comparison.breaking.is_empty() {
            return Err(format!(
                "the metric contract {shown} is broken: queries, dashboards and alerts that read these \
                 names, labels or buckets stop working; {how}\n{comparison}"
            ));
        }
        if !comparison.added.is_empty() {
            report(&format!(
                "the metric contract {shown} holds; not in it yet (record them with `{BLESS_ENV}=1 cargo test`):\n{comparison}"
            ));
        }
        Ok(())
    }

    /// What changed from `committed` to `self`.
    fn compare(&self, committed: &Contract) -> Comparison {
        let now: BTreeMap<&str, &Metric> = self.metrics.iter().map(|m| (&*m.name, m)).collect();
        let before: BTreeMap<&str, &Metric> =
            committed.metrics.iter().map(|m| (&*m.name, m)).collect();
        let mut out = Comparison::default();
        for (name, old) in &before {
            let Some(new) = now.get(name) else {
                let renamed = self
                    .metrics
                    .iter()
                    .filter(|m| !before.contains_key(&*m.name));
                let hint = renamed
                    .flat_map(|m| m.series.iter().map(move |s| (m, s)))
                    .find(|(m, s)| m.kind == old.kind && old.series.iter().any(|o| o.same_site(s)))
                    .map_or_else(String::new, |(m, s)| {
                        format!("; renamed to `{}`{}?", m.name, at(s))
                    });
                out.breaking.push(format!(
                    "{} `{name}` is gone: removed or renamed (recorded by {}){hint}",
                    old.kind,
                    sites(&old.series)
                ));
                continue;
            };
            if new.kind != old.kind {
                out.breaking.push(format!(
                    "`{name}` changed kind from {} to {}{}",
                    old.kind,
                    new.kind,
                    new.series.first().map_or_else(String::new, at)
                ));
                continue;
            }
            for series in &old.series {
                let Some(current) = new.series.iter().find(|s| s.same_site(series)) else {
                    out.breaking.push(format!(
                        "{} `{name}` is no longer recorded by {}: the function was removed, renamed or moved, or records other metrics",
                        old.kind,
                        site(series)
                    ));
                    continue;
                };
                let labels: BTreeSet<&String> = current.labels.iter().collect();
                let gone: Vec<&String> = series
                    .labels
                    .iter()
                    .filter(|l| !labels.contains(l))
                    .collect();
                if !gone.is_empty() {
                    out.breaking.push(format!(
                        "{} `{name}` of {}{}: label {} removed or renamed; its labels are now {:?}",
                        old.kind,
                        site(series),
                        at(current),
                        list(&gone),
                        current.labels
                    ));
                }
                let had: BTreeSet<&String> = series.labels.iter().collect();
                let added: Vec<&String> =
                    current.labels.iter().filter(|l| !had.contains(l)).collect();
                if !added.is_empty() {
                    out.added.push(format!(
                        "{} `{name}` of {}{}: label {}",
                        new.kind,
                        site(current),
                        at(current),
                        list(&added)
                    ));
                }
                if current.buckets != series.buckets {
                    out.breaking.push(format!(
                        "{} `{name}` of {}{}: buckets changed from {:?} to {:?}",
                        old.kind,
                        site(series),
                        at(current),
                        series.buckets,
                        current.buckets
                    ));
                }
            }
            for series in &new.series {
                if !old.series.iter().any(|s| s.same_site(series)) {
                    out.added.push(format!(
                        "{} `{name}` recorded by {}{}",
                        new.kind,
                        site(series),
                        at(series)
                    ));
                }
            }
        }
        for new in self
            .metrics
            .iter()
            .filter(|m| !before.contains_key(&*m.name))
        {
            out.added.push(format!(
                "{} `{}` recorded by {}",
                new.kind,
                new.name,
                new.series
                    .iter()
                    .map(|s| format!("{}{}", site(s), at(s)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        out
    }
}

/// One value as compact JSON.
fn compact(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

impl Series {
    /// Whether both are the series of one function.
    fn same_site(&self, other: &Series) -> bool {
        self.function == other.function && self.module == other.module
    }
}

fn site(s: &Series) -> String {
    format!("`{}` in `{}`", s.function, s.module)
}

fn sites(series: &[Series]) -> String {
    series.iter().map(site).collect::<Vec<_>>().join(", ")
}

fn at(s: &Series) -> String {
    s.at.as_ref()
        .map_or_else(String::new, |at| format!(" (declared at {at})"))
}

fn list(labels: &[&String]) -> String {
    labels
        .iter()
        .map(|l| format!("`{l}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What changed between a committed contract and the program.
#[derive(Debug, Default)]
struct Comparison {
    /// Changes that break what reads the metrics: each a line.
    breaking: Vec<String>,
    /// New metrics, series and labels, which the contract accepts.
    added: Vec<String>,
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for change in &self.breaking {
            writeln!(f, "  - {change}")?;
        }
        for change in &self.added {
            writeln!(f, "  + {change}")?;
        }
        Ok(())
    }
}

/// Writes to the real stderr, which the test harness does not capture, so a passing test still shows it.
fn report(text: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{text}");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A declaration: function, labels, buckets, line.
    type Decl<'a> = (&'a str, &'a [&'a str], &'a [f64], u32);

    /// A catalog as `Catalog::to_json` prints it.
    fn catalog(metrics: &[(&str, &str, &[Decl<'_>])]) -> Contract {
        let metrics: Vec<serde_json::Value> = metrics
            .iter()
            .map(|(name, kind, decls)| {
                let declarations: Vec<serde_json::Value> = decls
                    .iter()
                    .map(|(function, labels, buckets, line)| {
                        serde_json::json!({
                            "function": function, "module": "shop", "labels": labels,
                            "buckets": buckets, "file": "src/shop.rs", "line": line,
                        })
                    })
                    .collect();
                serde_json::json!({"name": name, "kind": kind, "help": "", "unit": "", "declarations": declarations})
            })
            .collect();
        Contract::from_catalog_json(&serde_json::json!({ "metrics": metrics }).to_string()).unwrap()
    }

    const CALLS: &[&str] = &["function", "module", "result"];
    const DURATION: &[&str] = &["function", "module"];

    fn committed() -> Contract {
        catalog(&[
            ("orders_total", "counter", &[("place", CALLS, &[], 10)]),
            (
                "order_duration_seconds",
                "histogram",
                &[
                    ("place", DURATION, &[0.1, 1.0], 10),
                    ("list", DURATION, &[0.1, 1.0], 20),
                ],
            ),
        ])
    }

    #[test]
    fn the_same_catalog_holds_whatever_its_lines() {
        let moved = catalog(&[
            ("orders_total", "counter", &[("place", CALLS, &[], 99)]),
            (
                "order_duration_seconds",
                "histogram",
                &[
                    ("list", DURATION, &[0.1, 1.0], 7),
                    ("place", &["module", "function"], &[0.1, 1.0], 99),
                ],
            ),
        ]);
        let c = moved.compare(&committed());
        assert!(c.breaking.is_empty() && c.added.is_empty(), "{c}");
        assert!(
            !committed().to_json().contains("src/shop.rs"),
            "no file or line in the file"
        );
    }

    #[test]
    fn removals_renames_kinds_labels_and_buckets_break_and_name_where() {
        let now = catalog(&[
            (
                "orders_placed_total",
                "counter",
                &[("place", CALLS, &[], 12)],
            ),
            (
                "order_duration_seconds",
                "histogram",
                &[("place", &["function", "module", "region"], &[0.1, 2.0], 13)],
            ),
        ]);
        let c = now.compare(&committed());
        let text = c.to_string();
        assert_eq!(c.breaking.len(), 3, "{text}");
        assert!(text.contains(
            "  - counter `orders_total` is gone: removed or renamed (recorded by `place` in `shop`); renamed to `orders_placed_total` (declared at src/shop.rs:12)?"
        ), "{text}");
        assert!(
            text.contains(
                "  - histogram `order_duration_seconds` is no longer recorded by `list` in `shop`"
            ),
            "{text}"
        );
        assert!(text.contains(
            "  - histogram `order_duration_seconds` of `place` in `shop` (declared at src/shop.rs:13): buckets changed from [0.1, 1.0] to [0.1, 2.0]"
        ), "{text}");
        assert!(text.contains(
            "  + histogram `order_duration_seconds` of `place` in `shop` (declared at src/shop.rs:13): label `region`"
        ), "{text}");
        assert!(text.contains(
            "  + counter `orders_placed_total` recorded by `place` in `shop` (declared at src/shop.rs:12)"
        ), "{text}");

        let relabelled = catalog(&[
            ("orders_total", "gauge", &[("place", CALLS, &[], 10)]),
            (
                "order_duration_seconds",
                "histogram",
                &[
                    ("place", &["function", "mod"], &[0.1, 1.0], 10),
                    ("list", DURATION, &[0.1, 1.0], 20),
                ],
            ),
        ]);
        let text = relabelled.compare(&committed()).to_string();
        assert!(
            text.contains(
                "  - `orders_total` changed kind from counter to gauge (declared at src/shop.rs:10)"
            ),
            "{text}"
        );
        assert!(text.contains(
            "  - histogram `order_duration_seconds` of `place` in `shop` (declared at src/shop.rs:10): label `module` removed or renamed; its labels are now [\"function\", \"mod\"]"
        ), "{text}");
    }

    #[test]
    fn additions_pass() {
        let more = catalog(&[
            (
                "orders_total",
                "counter",
                &[("place", CALLS, &[], 10), ("refund", CALLS, &[], 30)],
            ),
            (
                "order_duration_seconds",
                "histogram",
                &[
                    ("place", DURATION, &[0.1, 1.0], 10),
                    ("list", DURATION, &[0.1, 1.0], 20),
                ],
            ),
            ("carts_total", "counter", &[("add", CALLS, &[], 40)]),
        ]);
        let c = more.compare(&committed());
        assert!(c.breaking.is_empty(), "{c}");
        assert_eq!(c.added.len(), 2, "{c}");
    }

    #[test]
    fn a_missing_file_fails_until_blessed_and_bless_writes_it() {
        let path = std::env::temp_dir().join(format!("mvi-contract-{}.json", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let err = committed().check(&path, false).unwrap_err();
        assert!(
            err.contains("no metric contract at") && err.contains("MVI_CONTRACT_BLESS=1"),
            "{err}"
        );
        committed().check(&path, true).unwrap();
        committed().check(&path, false).unwrap();
        let renamed = catalog(&[(
            "orders_placed_total",
            "counter",
            &[("place", CALLS, &[], 10)],
        )]);
        let err = renamed.check(&path, false).unwrap_err();
        assert!(
            err.contains("is broken") && err.contains("`orders_total` is gone"),
            "{err}"
        );
        renamed.check(&path, true).unwrap();
        renamed.check(&path, false).unwrap();
        std::fs::write(&path, "{").unwrap();
        let err = renamed.check(&path, false).unwrap_err();
        assert!(err.contains("is not a metric contract"), "{err}");
        let _ = std::fs::remove_file(&path);
    }
}
