//! Bucket bounds: the default layout and the rules every layout follows.
//!
//! The macros check the same rules at compile time (a proc-macro crate cannot share code with this one);
//! the runtime applies them to bounds given to the builder.

/// The buckets of a duration histogram when none are declared: OpenTelemetry's recommendation for
/// `http.server.request.duration`. Generated code refers to this constant, so there is one source.
///
/// # Examples
///
/// ```
/// assert_eq!(mvi::DEFAULT_BUCKETS.first(), Some(&0.005));
/// assert_eq!(mvi::DEFAULT_BUCKETS.last(), Some(&10.0));
///
/// // The same layout for a histogram of your own, recorded with `metrics::histogram!`:
/// let builder = mvi::Telemetry::builder().histogram_buckets("queue_wait_seconds", mvi::DEFAULT_BUCKETS);
/// # drop(builder);
/// ```
pub const DEFAULT_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// Most bounds one histogram may have.
const MAX_BUCKETS: usize = 64;

/// Bounds are finite, positive, strictly increasing, 1 to 64 of them.
pub(crate) fn check(bounds: &[f64]) -> Result<(), String> {
    if bounds.is_empty() || bounds.len() > MAX_BUCKETS {
        return Err(format!(
            "give 1 to {MAX_BUCKETS} bounds, not {}",
            bounds.len()
        ));
    }
    if let Some(b) = bounds.iter().find(|b| !b.is_finite()) {
        return Err(format!("bound {b} is not finite"));
    }
    if let Some(b) = bounds.iter().find(|b| **b <= 0.0) {
        return Err(format!(
            "bound {b} is not positive; durations and sizes are above 0"
        ));
    }
    if let Some(w) = bounds.windows(2).find(|w| w[1] <= w[0]) {
        return Err(format!(
            "bounds must be strictly increasing, but {} follows {}",
            w[1], w[0]
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert!(check(DEFAULT_BUCKETS).is_ok());
        assert!(check(&[]).is_err());
        assert!(check(&[0.0, 1.0]).unwrap_err().contains("not positive"));
        assert!(check(&[-1.0]).unwrap_err().contains("not positive"));
        assert!(check(&[f64::NAN]).unwrap_err().contains("not finite"));
        assert!(
            check(&[1.0, 1.0])
                .unwrap_err()
                .contains("strictly increasing")
        );
        assert!(check(&[1.0; 65]).unwrap_err().contains("1 to 64"));
    }
}
