//! Two declarations of one name that disagree: `install` refuses, naming both places.

#[mvi::observe(histogram(buckets = [0.1, 1.0]))]
fn fast() {}

#[mvi::observe(histogram(buckets = [1.0, 10.0]))]
fn slow() {}

#[mvi::observe(counter(name = "jobs_total"))]
fn job_a() {}

#[mvi::observe(counter(name = "jobs_total"), labels(queue = "default"))]
fn job_b() {}

#[test]
fn conflicting_declarations_refuse_to_install() {
    fast();
    slow();
    job_a();
    job_b();
    let conflicts = mvi::catalog().conflicts();
    assert_eq!(conflicts.len(), 2, "{conflicts:?}");
    let err = mvi::Telemetry::builder()
        .without_admin_server()
        .install()
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, mvi::Error::CatalogConflict { .. }));
    assert!(
        text.contains(
            "metric `function_calls_duration_seconds` is declared with different buckets"
        ),
        "{text}"
    );
    assert!(
        text.contains("(`fast`)") && text.contains("(`slow`)"),
        "{text}"
    );
    assert!(
        text.contains("metric `jobs_total` is declared with different labels"),
        "{text}"
    );
    assert!(text.contains("tests/conflict.rs:"), "{text}");
}
