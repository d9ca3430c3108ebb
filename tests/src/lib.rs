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

/// Runs `promtool check metrics` on an exposition. `None` when promtool is not installed outside CI
/// (the reason is printed); panics when it is missing in CI (`CI=true`).
pub fn promtool_check(exposition: &str) -> Option<String> {
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("promtool is required in CI (Debian package `prometheus`): {e}")
        }
        Err(e) => {
            eprintln!(
                "skipping promtool check: cannot run `promtool` ({e}); install Debian's `prometheus` package"
            );
            return None;
        }
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(exposition.as_bytes())
        .expect("write to promtool");
    let out = child.wait_with_output().expect("promtool runs");
    let findings = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() || !findings.is_empty(),
        "promtool failed without output"
    );
    Some(findings)
}

/// The value of the one sample line that starts with `series` (name and labels exactly as rendered).
pub fn sample(exposition: &str, series: &str) -> Option<f64> {
    exposition.lines().find_map(|line| {
        let rest = line.strip_prefix(series)?;
        rest.strip_prefix(' ')?.trim().parse().ok()
    })
}
