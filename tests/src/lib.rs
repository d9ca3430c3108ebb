//! Helpers shared by the end-to-end tests: real HTTP and the real `promtool`.

use std::io::Write;
use std::process::{Command, Stdio};

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
    let child = Command::new("promtool")
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if std::env::var_os("CI").is_some() => {
            panic!(
                "promtool is required when `CI` is set: cannot run `promtool` ({e}); install Debian's `prometheus` package"
            )
        }
        Err(e) => {
            skip(&format!(
                "`promtool {}`: cannot run `promtool` ({e}); install Debian's `prometheus` package, or set `CI` to make this a failure",
                args.join(" ")
            ));
            return None;
        }
    };
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write to promtool");
    }
    let out = child.wait_with_output().expect("promtool runs");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some((out.status.success(), printed))
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
