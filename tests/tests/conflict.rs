//! Declarations that would break the exposition, or make it ambiguous, refuse to install, naming both
//! places: one name with two kinds, and two shapes for the same series (same function and module).

struct Wrapper<T>(T);

// Both are `Wrapper::run` in this module: one series, two bucket layouts.
#[mvi::observe(histogram(buckets = [0.1, 1.0]))]
impl Wrapper<u8> {
    fn run(&self) {}
}

#[mvi::observe(histogram(buckets = [1.0, 10.0]))]
impl Wrapper<u16> {
    fn run(&self) {}
}

// Both are `Wrapper::job`: one series, two sets of label names.
#[mvi::observe(counter(name = "jobs_total"))]
impl Wrapper<u32> {
    fn job(&self) {}
}

#[mvi::observe(counter(name = "jobs_total"))]
impl Wrapper<u64> {
    #[mvi::observe(labels(queue = "default"))]
    fn job(&self) {}
}

// One name, two kinds.
#[mvi::observe(histogram(name = "work_seconds"))]
fn timed() {}

#[mvi::observe(concurrency(name = "work_seconds"))]
fn in_flight() {}

// Different functions may differ in buckets and labels: no conflict.
#[mvi::observe(histogram(buckets = [0.5, 5.0]))]
fn other() {}

#[mvi::observe(counter(name = "jobs_total"), labels(queue = "slow"), max_series = 10)]
fn other_job() {}

#[test]
fn conflicting_declarations_refuse_to_install() {
    Wrapper(0u8).run();
    Wrapper(0u16).run();
    Wrapper(0u32).job();
    Wrapper(0u64).job();
    timed();
    in_flight();
    other();
    other_job();
    let text = mvi_tests::install_refused_for_conflicts(3);
    assert!(
        text.contains(
            "metric `function_calls_duration_seconds` of function `Wrapper::run` in module `conflict` is declared with different buckets: [0.1, 1.0] at tests/tests/conflict.rs:"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "metric `jobs_total` of function `Wrapper::job` in module `conflict` is declared with different labels: [\"function\", \"module\", \"result\"] at"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "metric `work_seconds` is declared as a histogram at tests/tests/conflict.rs:"
        ),
        "{text}"
    );
    assert!(text.contains("but as a gauge at"), "{text}");
    assert!(
        !text.contains("`other`") && !text.contains("other_job"),
        "{text}"
    );
}
