//! Helpers shared by the end-to-end tests: real HTTP, the real `promtool`, the official Python
//! OpenMetrics parser; and what a test does when a tool it needs is missing.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// GETs a URL over real HTTP; returns status, content type and body.
pub async fn get(url: &str) -> (u16, String, String) {
    let response = reqwest::get(url)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or_default().to_string())
        .unwrap_or_default();
    (
        status,
        content_type,
        response.text().await.unwrap_or_default(),
    )
}

/// Runs `promtool check metrics` on an exposition; returns what promtool printed (empty when it has no
/// finding). `None` when promtool cannot run (see [`promtool`]).
pub fn promtool_check(exposition: &str) -> Option<String> {
    let (ok, findings) = promtool(&["check", "metrics"], Some(exposition))?;
    assert!(ok || !findings.is_empty(), "promtool failed without output");
    Some(findings)
}

/// Runs the real `promtool` with `args`, writing `stdin` to it; returns whether it succeeded and what it
/// printed. When promtool cannot run: with `CI` set (to anything) that is a failure; otherwise the
/// reason is written where `cargo test` shows it and the caller skips its check (`None`).
pub fn promtool(args: &[&str], stdin: Option<&str>) -> Option<(bool, String)> {
    match run("promtool", args, stdin) {
        Ok(out) => Some((
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )),
        Err(e) => {
            unavailable(
                &format!("`promtool {}`", args.join(" ")),
                &format!("cannot run `promtool` ({e})"),
                PROMETHEUS_INSTALL,
            );
            None
        }
    }
}

/// Runs `program` with `args`, writing `stdin` to it, and waits for it.
fn run(program: &str, args: &[&str], stdin: Option<&str>) -> std::io::Result<Output> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())?;
    }
    child.wait_with_output()
}

/// How to install `promtool` and the `prometheus` server.
pub const PROMETHEUS_INSTALL: &str = "install Debian's `prometheus` package";

/// How to install the official Python OpenMetrics parser.
pub const PYTHON_PARSER_INSTALL: &str =
    "install the Python package `prometheus-client` (`python3 -m pip install prometheus-client`)";

/// A tool `check` needs cannot run (`why`): with `CI` set (to anything) that is a failure; otherwise the
/// check is skipped and says so (see [`skip`]).
pub fn unavailable(check: &str, why: &str, install: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{check} is required when `CI` is set: {why}; {install}");
    }
    skip(&format!(
        "{check}: {why}; {install}, or set `CI` to make this a failure"
    ));
}

/// Parses an OpenMetrics exposition with the official Python parser
/// (`prometheus_client.openmetrics.parser`) and returns what it read, as JSON: one object per family
/// (`name`, `type`, `unit`, `help`) with its `samples` (`name`, `labels`, `value`, and `exemplar`:
/// `labels`, `value`, `timestamp`, or null; infinities and NaN as the strings `inf`, `-inf`, `nan`).
/// Panics with the parser's message when it rejects the text. `None` when Python or the parser cannot
/// run (see [`unavailable`]).
pub fn openmetrics_parse(exposition: &str) -> Option<serde_json::Value> {
    const SCRIPT: &str = r#"
import json, math, sys
try:
    from prometheus_client.openmetrics.parser import text_string_to_metric_families
except ImportError as e:
    print(e, file=sys.stderr)
    sys.exit(3)
def number(v):
    v = float(v)
    return v if math.isfinite(v) else str(v)
families = []
for f in text_string_to_metric_families(sys.stdin.read()):
    samples = []
    for s in f.samples:
        e = s.exemplar
        samples.append({
            "name": s.name, "labels": s.labels, "value": number(s.value),
            "exemplar": None if e is None else {
                "labels": e.labels, "value": number(e.value),
                "timestamp": None if e.timestamp is None else number(e.timestamp),
            },
        })
    families.append({"name": f.name, "type": f.type, "unit": f.unit, "help": f.documentation, "samples": samples})
print(json.dumps(families))
"#;
    const CHECK: &str = "the OpenMetrics parser check";
    let out = match run("python3", &["-c", SCRIPT], Some(exposition)) {
        Ok(out) => out,
        Err(e) => {
            unavailable(
                CHECK,
                &format!("cannot run `python3` ({e})"),
                PYTHON_PARSER_INSTALL,
            );
            return None;
        }
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(3) {
        let why = format!("python3 cannot import the parser ({})", stderr.trim());
        unavailable(CHECK, &why, PYTHON_PARSER_INSTALL);
        return None;
    }
    assert!(
        out.status.success(),
        "the official OpenMetrics parser rejects the exposition:\n{stderr}\n--- exposition ---\n{exposition}"
    );
    Some(serde_json::from_slice(&out.stdout).expect("the parser's summary is JSON"))
}

/// Says why a check is skipped, on the process' stderr: libtest captures `eprintln!` of a passing test,
/// but not writes to the stderr handle, so the reason shows in `cargo test` output.
pub fn skip(reason: &str) {
    let _ = writeln!(std::io::stderr(), "skipping {reason}");
}

/// The value of the one sample line that starts with `series` (name and labels exactly as rendered).
pub fn sample(exposition: &str, series: &str) -> Option<f64> {
    exposition.lines().find_map(|line| {
        let rest = line.strip_prefix(series)?;
        rest.strip_prefix(' ')?.trim().parse().ok()
    })
}

/// What `install()` says of a catalog with `conflicts` conflicts: it must refuse with
/// [`mvi::Error::CatalogConflict`], one line per conflict.
pub fn install_refused_for_conflicts(conflicts: usize) -> String {
    let found = mvi::catalog().conflicts();
    assert_eq!(found.len(), conflicts, "{found:#?}");
    let err = mvi::Telemetry::builder()
        .without_admin_server()
        .install()
        .expect_err("install must refuse a catalog with conflicts");
    assert!(matches!(err, mvi::Error::CatalogConflict { .. }), "{err}");
    let text = err.to_string();
    assert_eq!(text.lines().count(), conflicts, "{text}");
    text
}

/// Counting allocations, for the tests that prove a call allocates nothing. A test binary makes it its
/// allocator with `#[global_allocator] static GLOBAL: mvi_tests::alloc::Counting = mvi_tests::alloc::Counting;`.
pub mod alloc {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// The system allocator, counting the allocations of the thread inside [`allocations_during`].
    #[derive(Debug)]
    pub struct Counting;

    static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

    thread_local! {
        /// Only allocations made on the measuring thread count; the harness has threads of its own.
        static COUNTING: Cell<bool> = const { Cell::new(false) };
    }

    // SAFETY: every call is forwarded unchanged to the system allocator.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            if COUNTING.try_with(Cell::get).unwrap_or(false) {
                ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
            }
            // SAFETY: forwarded unchanged to the system allocator.
            unsafe { System.alloc(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: `ptr` came from `System.alloc` with this layout.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    /// How many allocations `f` made on this thread (with [`Counting`] as the global allocator).
    pub fn allocations_during(f: impl FnOnce()) -> u64 {
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        COUNTING.with(|c| c.set(true));
        f();
        COUNTING.with(|c| c.set(false));
        ALLOCATIONS.load(Ordering::Relaxed) - before
    }
}
