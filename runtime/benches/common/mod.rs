//! What the benchmarks share: running criterion, reading its estimates back and printing one table of
//! ratios.

// Each benchmark is a crate of its own and uses what it needs of these.
#![allow(dead_code)]

use criterion::Criterion;

/// Installs mvi from `builder` (without its admin server), runs `benches` with criterion's settings
/// from the command line, then prints criterion's summary.
pub(crate) fn run(builder: mvi::TelemetryBuilder, benches: impl FnOnce(&mut Criterion)) {
    let _telemetry = builder
        .without_admin_server()
        .install()
        .expect("install mvi");
    let mut criterion = Criterion::default().configure_from_args();
    benches(&mut criterion);
    criterion.final_summary();
}

/// Mean time per iteration of `group/name`, in nanoseconds, from criterion's estimates of this run.
pub(crate) fn mean_ns(group: &str, name: &str) -> Option<f64> {
    let dir = std::env::var("CARGO_TARGET_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../target").into());
    let path = format!("{dir}/criterion/{group}/{name}/new/estimates.json");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    json["mean"]["point_estimate"].as_f64()
}

/// An extra column: its heading, and its cell from (mean, base mean).
pub(crate) type Column = (&'static str, fn(f64, f64) -> String);

/// Prints a Markdown table of `names`: the mean, and its ratio to `base`. `extra` adds a column
/// computed from (mean, base mean), when given.
pub(crate) fn print_table(group: &str, base: &str, names: &[&str], extra: Option<Column>) {
    let Some(base_ns) = mean_ns(group, base) else {
        println!("no estimates for {group}/{base}: run the whole benchmark, without a filter");
        return;
    };
    let (extra_head, extra_rule) = match extra {
        Some((head, _)) => (format!(" {head} |"), "---:|"),
        None => (String::new(), ""),
    };
    println!("\n| benchmark | time | ratio to {base} |{extra_head}\n|---|---:|---:|{extra_rule}");
    for name in names {
        let Some(ns) = mean_ns(group, name) else {
            continue;
        };
        let time = if ns >= 1e6 {
            format!("{:.2} ms", ns / 1e6)
        } else if ns >= 1000.0 {
            format!("{:.2} µs", ns / 1000.0)
        } else {
            format!("{ns:.1} ns")
        };
        let extra = extra.map_or(String::new(), |(_, f)| format!(" {} |", f(ns, base_ns)));
        println!("| {name} | {time} | {:.2}x |{extra}", ns / base_ns);
    }
}
