//! JSON logs as a log pipeline reads them: one object per line, correlation ids lifted from the span,
//! the filter applied, DEBUG sampled per trace, WARN never dropped, and the counts as metrics.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use mvi_tests::sample;

mod quiet {
    pub(crate) fn chatter() {
        tracing::info!("filtered out by the directive for this module");
        tracing::warn!("warnings still pass");
    }
}

#[tokio::test]
async fn json_lines_with_correlation_filter_and_sampling() {
    let buffer = Arc::new(Mutex::new(Vec::<u8>::new()));
    let telemetry = mvi::Telemetry::builder()
        .without_admin_server()
        .log_output(mvi::LogOutput::Writer(buffer.clone()))
        .log_filter("debug,logs::quiet=warn")
        .debug_sample_ratio(0.5)
        // The budget has tests of its own (`log_pressure.rs`); here every sampled line is the ratio's.
        .log_rate_limit(0)
        .install()
        .unwrap();

    let traces = 400;
    for i in 0..traces {
        let trace_id = format!(
            "{:032x}",
            (i as u128 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)
        );
        let span = tracing::info_span!("request", trace_id = %trace_id, span_id = "00f067aa0ba902b7", request_id = i);
        let _entered = span.enter();
        let inner = tracing::debug_span!("db");
        let _inner = inner.enter();
        for step in 0..3 {
            tracing::debug!(step, "debug detail");
        }
        tracing::warn!(attempt = i, ok = false, ratio = 0.25, "slow query");
    }
    tracing::info!(user = "ada", "no trace here");
    quiet::chatter();
    let metrics = telemetry.render();
    telemetry.shutdown().await;

    let text = String::from_utf8(buffer.lock().unwrap().clone()).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();

    // Every line: RFC 3339 UTC time, level, msg, target, file, line.
    for line in &lines {
        let time = line["time"].as_str().unwrap();
        assert!(
            time.len() >= 20 && time.ends_with('Z') && &time[10..11] == "T",
            "{time}"
        );
        humantime::parse_rfc3339(time).expect("RFC 3339");
        assert!(line["level"].is_string() && line["msg"].is_string() && line["target"].is_string());
        assert!(line["file"].is_string() && line["line"].is_u64(), "{line}");
    }

    // WARN is never sampled; its ids and fields are top-level.
    let warns: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l["msg"] == "slow query").collect();
    assert_eq!(warns.len(), traces);
    let w = warns[7];
    assert_eq!(w["level"], "WARN");
    assert_eq!(
        w["span_id"], "00f067aa0ba902b7",
        "lifted from the enclosing request span through the inner span"
    );
    assert_eq!(w["request_id"], "7");
    assert_eq!(w["trace_id"].as_str().unwrap().len(), 32);
    assert_eq!(
        (
            w["attempt"].as_u64(),
            w["ok"].as_bool(),
            w["ratio"].as_f64()
        ),
        (Some(7), Some(false), Some(0.25))
    );
    assert_eq!(w["target"], "logs");

    // DEBUG is sampled per trace: each trace keeps its 3 lines or none; about half are kept.
    let mut per_trace: HashMap<String, usize> = HashMap::new();
    for l in lines.iter().filter(|l| l["msg"] == "debug detail") {
        *per_trace
            .entry(l["trace_id"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert!(
        per_trace.values().all(|n| *n == 3),
        "a trace keeps all of its debug lines or none"
    );
    let kept = per_trace.len();
    assert!(
        (100..=300).contains(&kept),
        "{kept} of {traces} traces kept at ratio 0.5"
    );
    assert_eq!(
        sample(&metrics, r#"mvi_log_events_total{level="debug"}"#),
        Some((kept * 3) as f64),
        "{metrics}"
    );
    assert_eq!(
        sample(
            &metrics,
            r#"mvi_log_events_sampled_out_total{level="debug",reason="ratio"}"#
        ),
        Some(((traces - kept) * 3) as f64)
    );
    for reason in ["ratio", "budget", "queue_full"] {
        assert_eq!(
            sample(
                &metrics,
                &format!(r#"mvi_log_events_sampled_out_total{{level="warn",reason="{reason}"}}"#)
            ),
            Some(0.0),
            "{metrics}"
        );
    }

    // A line outside any span has no ids; the filter drops INFO from `logs::quiet` but not its WARN.
    let plain = lines.iter().find(|l| l["msg"] == "no trace here").unwrap();
    assert!(plain.get("trace_id").is_none());
    assert_eq!(plain["user"], "ada");
    assert!(
        !lines
            .iter()
            .any(|l| l["msg"] == "filtered out by the directive for this module")
    );
    assert!(
        lines
            .iter()
            .any(|l| l["msg"] == "warnings still pass" && l["target"] == "logs::quiet")
    );
    // Shutdown logs, then flushes: its last line is there when `shutdown` returns.
    assert_eq!(lines.last().unwrap()["msg"], "shutdown complete");
}
