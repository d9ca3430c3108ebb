//! Many threads calling the same functions at once: after they join, a real scrape shows every call,
//! exactly. Counters and histograms are split into per-thread shards summed at scrape, and label sets
//! are looked up without a lock; none of that may lose or double a call.

use std::collections::BTreeMap;

const THREADS: u64 = 8;
const CALLS: u64 = 5_000;
const TENANTS: [&str; 4] = ["acme", "globex", "initech", "umbrella"];

#[derive(mvi::LabelValue, Clone, Copy, Debug, PartialEq)]
enum Region {
    Eu,
    Us,
}

#[mvi::observe(
    counter(name = "contended_static_calls_total"),
    histogram(name = "contended_static_duration_seconds"),
    labels(tier = "gold")
)]
fn with_static(i: u64) -> Result<u64, u64> {
    if i % 5 == 0 { Err(i) } else { Ok(i) }
}

#[mvi::observe(
    counter(name = "contended_enum_calls_total"),
    histogram(name = "contended_enum_duration_seconds"),
    labels(region = region)
)]
fn with_enum(i: u64, region: Region) -> Result<u64, u64> {
    if i % 5 == 0 { Err(i) } else { Ok(i) }
}

#[mvi::observe(
    counter(name = "contended_open_calls_total"),
    histogram(name = "contended_open_duration_seconds"),
    labels(tenant = tenant)
)]
fn with_open(i: u64, tenant: &str) -> Result<u64, u64> {
    if i % 5 == 0 { Err(i) } else { Ok(i) }
}

mvi::metrics! {
    /// Items counted by many threads, by tenant.
    counter CONTENDED_ITEMS: "contended_items_total" { tenant: String };
}

type Labels = BTreeMap<String, String>;

/// Every sample of the exposition: (name, labels) → value. The values of this test need no unescaping.
fn samples(exposition: &str) -> BTreeMap<(String, Labels), f64> {
    exposition
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("a sample line");
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let labels = labels
                .split("\",")
                .filter(|p| !p.is_empty())
                .map(|pair| {
                    let (k, v) = pair.split_once("=\"").expect("k=\"v\"");
                    (k.to_string(), v.trim_end_matches('"').to_string())
                })
                .collect();
            ((name.to_string(), labels), value.parse().expect("a number"))
        })
        .collect()
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The histogram `name` of `series` labels: its buckets rise, the `+Inf` one is `_count`, and that is
/// `calls`.
fn check_histogram(all: &BTreeMap<(String, Labels), f64>, name: &str, series: &Labels, calls: u64) {
    let mut buckets: Vec<(f64, f64)> = all
        .iter()
        .filter(|((n, l), _)| {
            n == &format!("{name}_bucket") && {
                let mut l = l.clone();
                l.remove("le");
                &l == series
            }
        })
        .map(|((_, l), v)| {
            let le = l["le"].replace("+Inf", "inf").parse::<f64>().unwrap();
            (le, *v)
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert!(buckets.len() > 1, "{name} {series:?} has buckets");
    assert!(
        buckets.windows(2).all(|w| w[0].1 <= w[1].1),
        "{name} {series:?}: cumulative buckets rise: {buckets:?}"
    );
    let count = all[&(format!("{name}_count"), series.clone())];
    let inf = buckets.last().unwrap();
    assert!(inf.0.is_infinite());
    assert_eq!(inf.1, count, "{name} {series:?}: +Inf bucket is _count");
    assert_eq!(count, calls as f64, "{name} {series:?}: _count");
}

#[test]
fn threads_calling_one_function_are_all_counted_exactly() {
    let telemetry = mvi::Telemetry::builder()
        .without_admin_server()
        .without_logs()
        .install()
        .unwrap();
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            scope.spawn(move || {
                for i in 0..CALLS {
                    let _ = with_static(i);
                    let region = if (i + t) % 2 == 0 {
                        Region::Eu
                    } else {
                        Region::Us
                    };
                    let _ = with_enum(i, region);
                    let tenant = TENANTS[((i + t) % 4) as usize];
                    let _ = with_open(i, tenant);
                    CONTENDED_ITEMS.add(2, tenant);
                }
            });
        }
    });
    let all = samples(&telemetry.render());
    let errors_per_thread = CALLS.div_ceil(5);
    let module = "contended";
    let counter = |name: &str, pairs: &[(&str, &str)]| {
        all.get(&(name.to_string(), labels(pairs)))
            .copied()
            .unwrap_or_else(|| panic!("{name} {pairs:?} is scraped"))
    };

    // Static labels: one label set.
    let fixed = [
        ("function", "with_static"),
        ("module", module),
        ("tier", "gold"),
    ];
    let calls = |result| {
        let mut l = fixed.to_vec();
        l.push(("result", result));
        counter("contended_static_calls_total", &l)
    };
    assert_eq!(calls("ok"), (THREADS * (CALLS - errors_per_thread)) as f64);
    assert_eq!(calls("error"), (THREADS * errors_per_thread) as f64);
    check_histogram(
        &all,
        "contended_static_duration_seconds",
        &labels(&fixed),
        THREADS * CALLS,
    );

    // Enum labels: each thread alternates, starting on its own parity. Open labels: four tenants.
    let expected = |matches: &dyn Fn(u64, u64) -> bool| {
        let (mut ok, mut error) = (0u64, 0u64);
        for t in 0..THREADS {
            for i in 0..CALLS {
                if matches(t, i) {
                    if i % 5 == 0 {
                        error += 1;
                    } else {
                        ok += 1;
                    }
                }
            }
        }
        (ok, error)
    };
    // (function, kind, label, value, which calls of thread t, index i carry the value)
    type Case = (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        Box<dyn Fn(u64, u64) -> bool>,
    );
    let cases: Vec<Case> = [
        ("with_enum", "enum", "region", "eu", 0),
        ("with_enum", "enum", "region", "us", 1),
    ]
    .into_iter()
    .map(|(f, kind, key, value, parity)| {
        let matches: Box<dyn Fn(u64, u64) -> bool> = Box::new(move |t, i| (i + t) % 2 == parity);
        (f, kind, key, value, matches)
    })
    .chain(TENANTS.iter().enumerate().map(|(n, tenant)| {
        let matches: Box<dyn Fn(u64, u64) -> bool> = Box::new(move |t, i| (i + t) % 4 == n as u64);
        ("with_open", "open", "tenant", *tenant, matches)
    }))
    .collect();
    for (function, kind, key, value, matches) in &cases {
        let (ok, error) = expected(matches);
        let series = [("function", *function), ("module", module), (*key, *value)];
        for (result, want) in [("ok", ok), ("error", error)] {
            let mut l = series.to_vec();
            l.push(("result", result));
            assert_eq!(
                counter(&format!("contended_{kind}_calls_total"), &l),
                want as f64,
                "{kind} {value} {result}"
            );
        }
        check_histogram(
            &all,
            &format!("contended_{kind}_duration_seconds"),
            &labels(&series),
            ok + error,
        );
    }

    // A declared counter with an open label, added to by every thread.
    for (n, tenant) in TENANTS.iter().enumerate() {
        let (ok, error) = expected(&|t, i| (i + t) % 4 == n as u64);
        assert_eq!(
            counter("contended_items_total", &[("tenant", tenant)]),
            (2 * (ok + error)) as f64,
            "{tenant}"
        );
    }
}
