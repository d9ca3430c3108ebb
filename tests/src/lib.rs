//! Helpers shared by the end-to-end tests: real HTTP and the real `promtool`.

use std::io::Write;
use std::process::{Command, Stdio};

/// Serves `router` on a free port of 127.0.0.1 for the rest of the test; returns its base URL.
pub async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let base = format!("http://{}", listener.local_addr().expect("local address"));
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
    base
}

/// A downstream service as service A's code sees it: B's base URL, and a reqwest client through
/// mvi's middleware.
#[derive(Clone, Debug)]
pub struct Downstream {
    /// The client, with `mvi::client::Middleware`.
    pub client: reqwest_middleware::ClientWithMiddleware,
    /// B's base URL.
    pub base: String,
}

impl Downstream {
    /// `client` with mvi's middleware, calling `base`.
    pub fn new(client: reqwest::Client, base: String) -> Downstream {
        Downstream {
            client: reqwest_middleware::ClientBuilder::new(client)
                .with(mvi::client::Middleware::new())
                .build(),
            base,
        }
    }
}

impl Downstream {
    /// `POST {base}/charge` through the middleware; B's answer. (Not `#[observe]`d here: a
    /// declaration in this library would be in every test program's catalog.)
    pub async fn charge(&self) -> Result<String, reqwest_middleware::Error> {
        let response = self
            .client
            .post(format!("{}/charge", self.base))
            .send()
            .await?;
        Ok(response.text().await?)
    }
}

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
