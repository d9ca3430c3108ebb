//! Compile-time behaviour of the macros: what compiles, and the exact errors of what must not.
//!
//! The pass cases run on every compiler. The `.stderr` snapshots of the fail cases carry rustc's
//! wording, which changes between releases, so they belong to one compiler ([`SNAPSHOT_RUSTC`]): on
//! another one the fail cases are skipped with a visible reason, or, when `CI` is set (to anything),
//! fail with how to re-bless them: `TRYBUILD=overwrite cargo test -p mvi-ui-tests`, then read every diff.

use std::io::Write;
use std::process::Command;

const MACROS: [&str; 4] = ["observe", "traced_handler", "labels", "metrics"];

/// The stable release the `.stderr` snapshots were made with.
const SNAPSHOT_RUSTC: &str = "1.95";

#[test]
fn pass() {
    let t = trybuild::TestCases::new();
    for m in MACROS {
        t.pass(format!("tests/ui/{m}/pass/*.rs"));
    }
}

#[test]
fn compile_fail() {
    let found = rustc_version();
    if !is_snapshot_compiler(&found) {
        let reason = format!(
            "the compile-fail snapshots were made with stable rustc {SNAPSHOT_RUSTC}, and this is `{found}`; \
             re-bless them with `TRYBUILD=overwrite cargo test -p mvi-ui-tests`, read every diff, and update \
             `SNAPSHOT_RUSTC` in ui-tests/tests/ui.rs"
        );
        if std::env::var_os("CI").is_some() {
            panic!("{reason}");
        }
        // Straight to the process' stderr: libtest captures `eprintln!` of a passing test.
        let _ = writeln!(
            std::io::stderr(),
            "skipping the compile-fail cases (set `CI` to make this a failure): {reason}"
        );
        return;
    }
    let t = trybuild::TestCases::new();
    for m in MACROS {
        t.compile_fail(format!("tests/ui/{m}/fail/*.rs"));
    }
}

/// `rustc --version` of the compiler trybuild will use (`$RUSTC`, else `rustc` on the path).
fn rustc_version() -> String {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(&rustc)
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{}`: {e}", rustc.to_string_lossy()));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `rustc 1.95.0 (59807616e 2026-04-14)` is; `rustc 1.95.0-beta.3 (...)` and `rustc 1.96.0 (...)` are not.
fn is_snapshot_compiler(version: &str) -> bool {
    version
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.strip_prefix(SNAPSHOT_RUSTC))
        .and_then(|rest| rest.strip_prefix('.'))
        .is_some_and(|patch| patch.chars().all(|c| c.is_ascii_digit()))
}

#[test]
fn snapshot_compiler_is_recognised() {
    assert!(is_snapshot_compiler("rustc 1.95.0 (59807616e 2026-04-14)"));
    assert!(is_snapshot_compiler("rustc 1.95.2"));
    assert!(!is_snapshot_compiler(
        "rustc 1.95.0-beta.3 (f0e0e0e0e 2026-03-01)"
    ));
    assert!(!is_snapshot_compiler(
        "rustc 1.95.0-nightly (f0e0e0e0e 2026-03-01)"
    ));
    assert!(!is_snapshot_compiler("rustc 1.96.0 (f0e0e0e0e 2026-05-28)"));
    assert!(!is_snapshot_compiler("rustc 1.9.0"));
    assert!(!is_snapshot_compiler(""));
}
