//! The served OpenAPI document and the server are one truth: schemathesis (from PyPI,
//! installed by `.ci/run` into a virtual environment and named by
//! `RAMPART_SCHEMATHESIS`) generates requests from `/openapi.json` of a real `rampart
//! server` and runs every check — no 5xx, every answer as documented, invalid input
//! refused, valid input accepted (except where `tests/schemathesis.toml` says why the
//! document cannot state validity) — with an admin token, a fixed seed and a bounded
//! number of examples, so a run is repeatable.

use std::path::PathBuf;
use std::process::Command;

use crate::support::{ServerProcess, offline_user_token};

/// The schemathesis command: `RAMPART_SCHEMATHESIS`, else `schemathesis` on the PATH.
fn schemathesis() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("RAMPART_SCHEMATHESIS") {
        return Some(PathBuf::from(path));
    }
    let found = Command::new("sh")
        .args(["-c", "command -v schemathesis"])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    Some(PathBuf::from(String::from_utf8_lossy(&found.stdout).trim()))
}

#[test]
fn the_api_conforms_to_its_openapi_document() {
    let Some(st) = schemathesis() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "schemathesis is required in CI (set RAMPART_SCHEMATHESIS); .ci/run installs it"
        );
        eprintln!(
            "skipping: schemathesis not installed (pip install schemathesis, or set RAMPART_SCHEMATHESIS)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let token = offline_user_token(&data, "ada", "admin");

    let server = ServerProcess::start(&data, &[]);
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemathesis.toml");
    let run = Command::new(&st)
        .args(["--no-color", "--config-file", config, "run"])
        .arg(format!("{}/openapi.json", server.url))
        .arg("--tls-verify")
        .arg(&server.ca)
        .args(["-H", &format!("Authorization: Bearer {token}")])
        // Every check runs by default; the config turns one off per operation.
        .args(["--max-examples", "25", "--seed", "20261207"])
        // One worker: the stateful phase's order, and so the run, stays the same.
        .args(["--workers", "1", "--request-timeout", "30"])
        .current_dir(dir.path())
        .output()
        .expect("run schemathesis");
    let report = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "schemathesis found failures:\n{report}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // The run did reach the server: the summary counts tested operations.
    assert!(report.contains("Tested:"), "{report}");
}
