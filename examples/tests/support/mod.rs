//! A program of this package (the demo, an example) run as a process, as a newcomer runs it: its banner
//! read from stderr, its JSON logs from stdout as they come, signals sent as a service manager sends
//! them, and no process left behind when a test fails.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};

/// The running process.
pub(crate) struct Process {
    child: Child,
    /// What it printed on stderr until the banner was complete.
    pub(crate) banner: String,
    /// Kept open: the program writes to stderr, and a closed pipe would fail its writes.
    _stderr: BufReader<ChildStderr>,
    /// Its stdout, read as it comes (a pipe nobody read would fill and hold its log lines back).
    stdout: Option<std::thread::JoinHandle<String>>,
}

impl Process {
    /// Starts `command` with its output piped, and reads its stderr until `complete(banner)` holds.
    pub(crate) fn start(mut command: Command, complete: impl Fn(&str) -> bool) -> Process {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut banner = String::new();
        while !complete(&banner) {
            assert!(stderr.read_line(&mut banner).unwrap() > 0, "{banner}");
        }
        let mut stdout = child.stdout.take().unwrap();
        let stdout = std::thread::spawn(move || {
            let mut text = String::new();
            stdout.read_to_string(&mut text).unwrap();
            text
        });
        Process {
            child,
            banner,
            _stderr: stderr,
            stdout: Some(stdout),
        }
    }

    /// Sends the signal `name` (`TERM`, `INT`).
    pub(crate) fn signal(&self, name: &str) {
        let sent = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// Waits for the exit; the exit status, the JSON log lines written on stdout, and stdout.
    pub(crate) fn finish(mut self) -> (ExitStatus, Vec<serde_json::Value>, String) {
        let status = self.child.wait().unwrap();
        let stdout = self.stdout.take().unwrap().join().unwrap();
        let lines = stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        (status, lines, stdout)
    }
}

/// A test that fails before [`Process::finish`] leaves no process behind.
impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
