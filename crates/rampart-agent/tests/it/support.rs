//! Helpers: finding the real tools the tests compare against, and running them.

use std::process::{Command, Output};

/// Whether `tool` is on PATH. Missing under CI is a failure (CI installs it, see
/// `.ci/run`); on a developer machine the test is skipped, saying why.
pub(crate) fn require(tool: &str) -> bool {
    let found = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
        .unwrap_or(false);
    if !found {
        if std::env::var_os("CI").is_some() {
            panic!("CI is set but `{tool}` is not installed; .ci/run must install it");
        }
        eprintln!("skipping: `{tool}` is not installed (set CI=1 to make this a failure)");
    }
    found
}

/// Runs a command to completion and returns its stdout; panics with its stderr on failure.
pub(crate) fn run(command: &mut Command) -> String {
    let Output {
        status,
        stdout,
        stderr,
    } = command
        .output()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    assert!(
        status.success(),
        "{command:?} failed ({status}):\n{}",
        String::from_utf8_lossy(&stderr)
    );
    String::from_utf8(stdout).expect("UTF-8 output")
}
