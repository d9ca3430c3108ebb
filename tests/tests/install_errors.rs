//! Bad configuration is an error value, never a panic, and changes nothing.

use std::net::TcpListener;

#[tokio::test]
async fn address_in_use_invalid_address_and_bad_buckets_are_errors() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let err = mvi::Telemetry::builder()
        .admin_addr(addr.clone())
        .install()
        .unwrap_err();
    assert!(matches!(err, mvi::Error::Bind { .. }), "{err:?}");
    assert!(err.to_string().contains(&addr), "{err}");

    let err = mvi::Telemetry::builder()
        .admin_addr("localhost:http")
        .install()
        .unwrap_err();
    assert!(matches!(err, mvi::Error::InvalidAddr { .. }), "{err:?}");

    let err = mvi::Telemetry::builder()
        .histogram_buckets("x_seconds", &[1.0, 0.5])
        .install()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid buckets for histogram `x_seconds`: bounds must be strictly increasing, but 0.5 follows 1"
    );

    for (builder, reason) in [
        (
            mvi::Telemetry::builder().max_series_per_metric(0),
            "max_series_per_metric must be at least 1",
        ),
        (
            mvi::Telemetry::builder().check_timeout(std::time::Duration::ZERO),
            "check_timeout must be longer than zero, or every check fails",
        ),
        (
            mvi::Telemetry::builder().debug_sample_ratio(1.5),
            "debug_sample_ratio must be within 0.0 and 1.0, not 1.5",
        ),
        (
            mvi::Telemetry::builder().log_filter("info,[="),
            "invalid log filter `info,[=`",
        ),
    ] {
        let err = builder.admin_addr("127.0.0.1:0").install().unwrap_err();
        assert!(matches!(err, mvi::Error::InvalidConfig { .. }), "{err:?}");
        assert!(
            err.to_string()
                .starts_with(&format!("invalid configuration: {reason}")),
            "{err}"
        );
    }

    // None of the failures above installed anything: a correct install still works.
    let telemetry = mvi::Telemetry::builder()
        .admin_addr("127.0.0.1:0")
        .install()
        .unwrap();
    telemetry.shutdown().await;
}

#[test]
fn foreign_recorder_is_reported() {
    // Runs in its own process per test binary; this binary's other test installs mvi, so only check the
    // message of the variant here.
    assert!(
        mvi::Error::ForeignRecorder
            .to_string()
            .contains("another `metrics` recorder")
    );
}
