//! autometrics' own queries, run by a real Prometheus against a real scrape of mvi: the panels of its
//! Grafana dashboards (autometrics-shared, `dashboards/Autometrics Function Explorer.json` and
//! `Autometrics Overview.json`) and the query links its macro writes into each function's docs
//! (autometrics-rs, `autometrics-macros/src/lib.rs`), copied verbatim with Grafana's variables filled
//! in. Each joins autometrics' `build_info` series `on (instance, job)` to add `version` and `commit`;
//! the links have no fallback, so without a `build_info` they return nothing. Against mvi each returns
//! the function's series with the version and commit given to the builder, and the same values as the
//! query without the join.

use std::time::Duration;

use mvi_tests::prometheus::{Server, eventually};
use serde_json::Value;

/// A function as autometrics users observe theirs: counter, latency histogram, calls in flight.
#[mvi::observe(counter, histogram, concurrency)]
fn checkout(cents: u64) -> Result<u64, &'static str> {
    if cents % 4 == 0 {
        Err("declined")
    } else {
        Ok(cents)
    }
}

fn calls(n: u64) {
    for cents in 1..=n {
        let _ = checkout(cents);
    }
}

/// Function Explorer: "Request Rate", "Error Ratio", "Latency (95th and 99th Percentile)".
const EXPLORER: [&str; 3] = [
    r#"sum by (function, module, service_name, version, commit) (
  rate(
    {
      __name__=~"function_calls(_count)?(_total)?",
      function=~"${function}"
    }[$__rate_interval]
  )
  * on(instance, job) group_left(version, commit) (last_over_time(build_info[$__rate_interval]) or on (instance, job) up)
)"#,
    r#"(
  sum by(function, module, service_name, version, commit) (
    rate(
      {
        __name__=~"function_calls(_count)?(_total)?",
        result="error", 
        function=~"${function}"
      }[$__rate_interval]
    )
    * on(instance, job) group_left(version, commit) (last_over_time(build_info[$__rate_interval]) or on (instance, job) up)
  )) / (
  sum by(function, module, service_name, version, commit) (
    rate(
      {
        __name__=~"function_calls(_count)?(_total)?",
        function=~"${function}"
      }[$__rate_interval]
    )
    * on(instance, job) group_left(version, commit) (last_over_time(build_info[$__rate_interval]) or on (instance, job) up)
  ))"#,
    r#"label_replace(
  histogram_quantile(0.99, 
    sum by (le, function, module, service_name, commit, version) (
      rate({__name__=~"function_calls_duration(_seconds)?_bucket", function=~"$function"}[$__rate_interval])
      # Attach the `version` and `commit` labels from the `build_info` metric 
      * on(instance, job) group_left(version, commit) (last_over_time(build_info[$__rate_interval]) or on (instance, job) up)
    )
  ),
  # Add the label {percentile_latency="99"} to the time series
  "percentile_latency", "99", "", ""
)
or
label_replace(
  histogram_quantile(0.95, 
    sum by (le, function, module, service_name, commit, version) (
      rate({__name__=~"function_calls_duration(_seconds)?_bucket", function=~"$function"}[$__rate_interval])
      # Attach the `version` and `commit` labels from the `build_info` metric 
      * on(instance, job) group_left(version, commit) (last_over_time(build_info[$__rate_interval]) or on (instance, job) up)
    )
  ),
  # Add the label {percentile_latency="95"} to the time series
  "percentile_latency", "95", "", ""
)"#,
];

/// Overview: "Request Rate (Top $num_function_limit)".
const OVERVIEW: &str = r#"sum by (function, module, service_name, version, commit) (
  rate(
    {
      __name__=~"function_calls(_count)?(_total)?", 
      function=~"${functions_top_request_rate}"
    }[5m]
  )
  * on(instance, job) group_left(version, commit) (last_over_time(build_info[$__rate_interval]) or on (instance, job) up)
)"#;

/// The macro's links: `request_rate_query`, `error_ratio_query`, `latency_query` and
/// `concurrent_calls_query` for `function="checkout"`, with its `ADD_BUILD_INFO_LABELS`.
const LINKS: [&str; 4] = [
    r#"sum by (function, module, service_name, commit, version) (rate({__name__=~"function_calls(_count)?(_total)?",function="checkout"}[5m]) * on (instance, job) group_left(version, commit) last_over_time(build_info[1s]))"#,
    r#"(sum by (function, module, service_name, commit, version) (rate({__name__=~"function_calls(_count)?(_total)?",function="checkout",result="error"}[5m]) * on (instance, job) group_left(version, commit) last_over_time(build_info[1s])))
/
(sum by (function, module, service_name, commit, version) (rate({__name__=~"function_calls(_count)?(_total)?",function="checkout"}[5m]) * on (instance, job) group_left(version, commit) last_over_time(build_info[1s])))"#,
    r#"label_replace(histogram_quantile(0.99, sum by (le, function, module, service_name, commit, version) (rate({__name__=~"function_calls_duration(_seconds)?_bucket",function="checkout"}[5m]) * on (instance, job) group_left(version, commit) last_over_time(build_info[1s]))), "percentile_latency", "99", "", "")
or
label_replace(histogram_quantile(0.95, sum by (le, function, module, service_name, commit, version) (rate({__name__=~"function_calls_duration(_seconds)?_bucket",function="checkout"}[5m]) * on (instance, job) group_left(version, commit) last_over_time(build_info[1s]))), "percentile_latency", "95", "", "")"#,
    r#"sum by (function, module, service_name, commit, version) (function_calls_concurrent{function="checkout"} * on (instance, job) group_left(version, commit) last_over_time(build_info[1s]))"#,
];

/// A dashboard query with Grafana's variables as a dashboard showing this function would set them.
fn grafana(query: &str) -> String {
    query
        .replace("$__rate_interval", "10s")
        .replace("${functions_top_request_rate}", "checkout")
        .replace("${function}", "checkout")
        .replace("$function", "checkout")
}

/// The same query without autometrics' join: what its values must be, since `build_info` is 1.
fn without_join(query: &str) -> String {
    let mut query = query.to_string();
    for join in [
        "* on(instance, job) group_left(version, commit) (last_over_time(build_info[10s]) or on (instance, job) up)",
        "* on (instance, job) group_left(version, commit) last_over_time(build_info[1s])",
    ] {
        query = query.replace(join, "");
    }
    query
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autometrics_dashboards_and_query_links_work_on_mvi() {
    let telemetry = mvi::Telemetry::builder()
        .service_name("checkout-service")
        .service_version("1.2.3")
        .service_commit("4f2a9c1")
        .admin_addr("127.0.0.1:0")
        .without_logs()
        .install()
        .unwrap();
    calls(400);
    let target = telemetry.admin_addr().unwrap().to_string();
    let Some(prometheus) = Server::start(&target, &[]) else {
        return;
    };
    prometheus.target_up().await;

    // Calls between scrapes, until Prometheus holds a dozen scrapes of them.
    let calling = tokio::spawn(async {
        loop {
            calls(40);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let scraped_at = eventually("a dozen scrapes", || async {
        let count = prometheus
            .api("/api/v1/query?query=count_over_time(up%5B1m%5D)")
            .await
            .ok_or("no answer")?;
        let scrapes = count["data"]["result"][0]["value"][1]
            .as_str()
            .unwrap_or("0");
        if scrapes.parse::<f64>().unwrap_or(0.0) < 12.0 {
            return Err(count.to_string());
        }
        // The time of the last scrape: there, `build_info[1s]` holds a sample.
        let last = prometheus
            .api("/api/v1/query?query=timestamp(up)")
            .await
            .ok_or("no answer")?;
        last["data"]["result"][0]["value"][1]
            .as_str()
            .and_then(|t| t.parse::<f64>().ok())
            .ok_or(last.to_string())
    })
    .await;
    calling.abort();

    let joined: Vec<String> = EXPLORER
        .iter()
        .chain([&OVERVIEW])
        .map(|q| grafana(q))
        .chain(LINKS.iter().map(|q| q.to_string()))
        .collect();
    for query in &joined {
        let result = prometheus.query(query, scraped_at).await;
        assert!(!result.is_empty(), "no result for:\n{query}");
        let plain = prometheus.query(&without_join(query), scraped_at).await;
        assert_eq!(result.len(), plain.len(), "{query}\n{result:?}\n{plain:?}");
        for (series, plain) in result.iter().zip(&plain) {
            let labels = &series["metric"];
            assert_eq!(labels["function"], "checkout", "{query}: {series}");
            assert_eq!(labels["module"], "autometrics", "{query}: {series}");
            assert_eq!(labels["version"], "1.2.3", "{query}: {series}");
            assert_eq!(labels["commit"], "4f2a9c1", "{query}: {series}");
            // mvi's series carry no `service_name`: the job stands for the service.
            assert_eq!(labels["service_name"], Value::Null, "{query}: {series}");
            assert_eq!(
                series["value"][1], plain["value"][1],
                "the join changes no value:\n{query}\n{series}\n{plain}"
            );
        }
    }

    // Every fourth call fails.
    let ratio = prometheus.query(&grafana(EXPLORER[1]), scraped_at).await;
    let ratio: f64 = ratio[0]["value"][1].as_str().unwrap().parse().unwrap();
    assert!((0.2..=0.3).contains(&ratio), "error ratio {ratio}");

    // The SLO dashboard selects by `objective_name`, which mvi does not record: it has nothing to show.
    let objectives = prometheus
        .api("/api/v1/label/objective_name/values")
        .await
        .unwrap();
    assert_eq!(objectives["data"], serde_json::json!([]), "{objectives}");
    telemetry.shutdown().await;
}
