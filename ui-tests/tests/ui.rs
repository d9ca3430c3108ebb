//! Compile-time behaviour of the macros: what compiles, and the exact errors of what must not.
//!
//! The `.stderr` snapshots carry rustc's wording, which changes between releases, so they run only on
//! the toolchain they were made with (stable 1.95). Regenerate with
//! `TRYBUILD=overwrite cargo test -p mvi-ui-tests` and read every diff.

#[rustversion::attr(not(stable(1.95)), ignore = "snapshots were made with rustc 1.95")]
#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    for m in ["observe", "traced_handler", "labels"] {
        t.pass(format!("tests/ui/{m}/pass/*.rs"));
        t.compile_fail(format!("tests/ui/{m}/fail/*.rs"));
    }
}
