//! Helpers shared by the binary's integration tests.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// Runs `rampart` with `args`, feeding `stdin`.
pub(crate) fn rampart(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rampart binary starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("rampart finishes")
}

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Whether a system tool is present. Under CI (`CI` set) a missing tool is a failure, so
/// a broken install step cannot turn the suite green; elsewhere the test is skipped with
/// a printed reason.
pub(crate) fn require_tool(tool: &str, why: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{tool} is required in CI ({why}); .ci/run installs it"
        );
        eprintln!("skipping: {tool} not installed ({why})");
    }
    found
}

/// `../shared/testdata` beside the workspace; a clear failure when it is missing.
pub(crate) fn shared_testdata() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata");
    assert!(
        dir.is_dir(),
        "shared test data not found at {} (expected ../shared beside the checkout)",
        dir.display()
    );
    dir
}
