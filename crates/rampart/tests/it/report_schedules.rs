//! `rampart reports schedules` against a real `rampart server`: add (a bad cron is
//! refused with the reason), list, send now, runs, remove.

use serde_json::Value;

use crate::support::{ServerProcess, rampart, stderr, stdout};

fn json(out: &std::process::Output) -> Value {
    serde_json::from_str(&stdout(out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

#[test]
fn cli_adds_lists_sends_and_removes_report_schedules() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "correct horse battery staple\n").unwrap();
    let out = rampart(
        &[
            "admin",
            "create-user",
            "ada",
            "--role",
            "admin",
            "--password-file",
            pw.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ],
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let server = ServerProcess::start(&data, &[]);
    let xdg = dir.path().join("xdg");
    let cli = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_rampart"))
            .args(args)
            .env("XDG_CONFIG_HOME", &xdg)
            .env_remove("RAMPART_SERVER")
            .env_remove("RAMPART_TOKEN")
            .env_remove("RAMPART_CA_CERT")
            .output()
            .unwrap()
    };
    let out = cli(&[
        "login",
        "--server",
        &server.url,
        "--ca-cert",
        server.ca.to_str().unwrap(),
        "--user",
        "ada",
        "--password-file",
        pw.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    // A webhook to a loopback port nothing listens on: the report is queued to it.
    let out = cli(&[
        "notifications",
        "channels",
        "add",
        "hook",
        "--kind",
        "webhook",
        "--url",
        "http://127.0.0.1:9/hook",
        "-o",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let channel = json(&out)["id"].as_str().unwrap().to_owned();

    let add = |cron: &str| {
        cli(&[
            "reports",
            "schedules",
            "add",
            "weekly",
            "--report",
            "compliance",
            "--format",
            "csv",
            "--cron",
            cron,
            "--timezone",
            "Europe/Berlin",
            "--channel",
            &channel,
            "-o",
            "json",
        ])
    };
    let out = add("0 25 * * *");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("invalid cron expression"),
        "{}",
        stderr(&out)
    );
    let out = add("0 7 * * MON");
    assert!(out.status.success(), "{}", stderr(&out));
    let schedule = json(&out);
    let id = schedule["id"].as_str().unwrap().to_owned();
    let next = schedule["next_run_at"].as_i64().unwrap();

    let table = stdout(&cli(&["reports", "schedules", "ls"]));
    assert!(
        table.contains("weekly")
            && table.contains("Europe/Berlin")
            && table.contains("0 7 * * MON"),
        "{table}"
    );
    let csv = stdout(&cli(&["reports", "schedules", "ls", "-o", "csv"]));
    assert!(csv.starts_with("id,name,report,format"), "{csv}");

    let out = cli(&["reports", "schedules", "run", &id, "-o", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let run = json(&out);
    assert_eq!(run["status"], "queued", "{run}");
    assert!(run["bytes"].as_i64().unwrap() > 0);
    let runs = json(&cli(&["reports", "schedules", "runs", &id, "-o", "json"]));
    assert_eq!(runs["total"], 1);
    assert_eq!(runs["items"][0]["event_id"], run["event_id"]);
    let listed = json(&cli(&["reports", "schedules", "ls", "-o", "json"]));
    assert_eq!(
        listed["items"][0]["next_run_at"], next,
        "send now keeps the timing"
    );

    let out = cli(&["reports", "schedules", "rm", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listed = json(&cli(&["reports", "schedules", "ls", "-o", "json"]));
    assert_eq!(listed["total"], 0);
}
