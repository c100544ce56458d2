//! `rampart reports schedules` against a real `rampart server`: add (a bad cron is
//! refused with the reason), list, send now, runs, remove.

use crate::support::{LoggedInAdmin, json_out, stderr, stdout};

#[test]
fn cli_adds_lists_sends_and_removes_report_schedules() {
    let admin = LoggedInAdmin::start();
    let cli = |args: &[&str]| admin.cli(args);
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
    let channel = json_out(&out)["id"].as_str().unwrap().to_owned();

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
    let schedule = json_out(&out);
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
    let run = json_out(&out);
    assert_eq!(run["status"], "queued", "{run}");
    assert!(run["bytes"].as_i64().unwrap() > 0);
    let runs = json_out(&cli(&["reports", "schedules", "runs", &id, "-o", "json"]));
    assert_eq!(runs["total"], 1);
    assert_eq!(runs["items"][0]["event_id"], run["event_id"]);
    let listed = json_out(&cli(&["reports", "schedules", "ls", "-o", "json"]));
    assert_eq!(
        listed["items"][0]["next_run_at"], next,
        "send now keeps the timing"
    );

    let out = cli(&["reports", "schedules", "rm", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listed = json_out(&cli(&["reports", "schedules", "ls", "-o", "json"]));
    assert_eq!(listed["total"], 0);
}
