//! Scheduled reports end to end: a schedule falls due on the test clock, the
//! dispatcher's round renders the PDF compliance report and mails it through a real
//! SMTP server (aiosmtpd, STARTTLS + AUTH) with the summary in the body; the attachment
//! is read back with poppler's `pdftotext` and must carry the API's totals. Also:
//! racing runners claim a schedule once, bad timing is a 400, "send now".

use std::time::Duration;

use axum::http::{Method, StatusCode};
use rampart_core::authz::Role;
use rampart_notify::RetryPolicy;
use rampart_server::ServerConfig;
use rampart_server::notifier::{self, NotifyConfig};
use rampart_server::report_schedules::run_due;
use serde_json::{Value, json};

use crate::reports::{download, pdf_text, poppler, seed, total};
use crate::support::{Auth, T0, TestApp, each_backend};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;

async fn app(store: rampart_store::Store) -> TestApp {
    TestApp::with_config(
        store,
        ServerConfig {
            master_key: Some(rampart_pki::MasterKey::generate().unwrap()),
            notifications: NotifyConfig {
                retry: RetryPolicy {
                    max_attempts: 3,
                    base: Duration::from_secs(1),
                    max_delay: Duration::from_secs(60),
                },
                poll_interval: Duration::from_millis(50),
                ..NotifyConfig::default()
            },
            egress: crate::support::loopback_egress(),
            ..ServerConfig::default()
        },
    )
    .await
}

async fn channel(t: &TestApp, admin: &Auth, name: &str, config: Value, secret: &str) -> String {
    let created = t
        .call(
            Method::POST,
            "/api/v1/notification-channels",
            admin,
            Some(json!({"name": name, "kind": "email", "config": config, "secret": secret})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    created.body["id"].as_str().unwrap().to_owned()
}

/// A mail channel that is never dispatched to in the test (nothing listens).
async fn idle_channel(t: &TestApp, admin: &Auth) -> String {
    channel(
        t,
        admin,
        "idle",
        json!({"host": "smtp.example.com", "from": "r@example.com",
               "to": ["s@example.com"], "username": "r"}),
        "smtp-password-123",
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_schedule_mails_the_pdf_report_with_the_api_totals() {
    each_backend(|store| async move {
        let Some(smtp) = crate::smtp_server::start_smtp() else {
            return;
        };
        let t = app(store).await;
        seed(&t).await;
        let admin = Auth::Bearer(t.user_token("ada", Role::Admin).await);
        let operator = Auth::Bearer(t.user_token("olga", Role::Operator).await);
        let auditor = Auth::Bearer(t.user_token("audrey", Role::Auditor).await);
        let mail = channel(
            &t,
            &admin,
            "security-team",
            serde_json::to_value(smtp.config()).unwrap(),
            crate::smtp_server::PASSWORD,
        )
        .await;

        // 01:02 in Berlin (T0 is midnight UTC, 01:00 there in winter), so the seeded
        // hosts are not stale yet when it runs. Operators manage schedules.
        let created = t
            .call(
                Method::POST,
                "/api/v1/report-schedules",
                &operator,
                Some(json!({
                    "name": "Daily compliance", "report": "compliance", "format": "pdf",
                    "cron": "2 1 * * *", "timezone": "Europe/Berlin", "channel_ids": [mail],
                })),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let id = created.body["id"].as_str().unwrap().to_owned();
        assert_eq!(created.body["next_run_at"], T0 + 2 * MINUTE);
        assert_eq!(created.body["created_by"], "olga");

        // Not due yet: nothing runs.
        assert_eq!(run_due(&t.state).await.unwrap(), 0);
        t.advance(2 * MINUTE + 10_000);

        // The dispatcher's round runs the schedule and mails the report.
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(notifier::run_dispatcher(t.state.clone(), async move {
            let _ = stopped.await;
        }));
        let m = smtp.message(1);
        stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("the dispatcher stops on shutdown")
            .unwrap();

        let schedule = t
            .get(&format!("/api/v1/report-schedules/{id}"), &auditor)
            .await;
        assert_eq!(
            schedule.body["next_run_at"],
            T0 + 24 * HOUR + 2 * MINUTE,
            "the next day"
        );
        let runs = t
            .get(&format!("/api/v1/report-schedules/{id}/runs"), &auditor)
            .await;
        assert_eq!(runs.body["total"], 1, "{}", runs.text);
        let run = &runs.body["items"][0];
        assert_eq!(run["status"], "queued", "{}", runs.text);
        let deliveries = t
            .get("/api/v1/notification-deliveries?status=delivered", &admin)
            .await;
        assert_eq!(deliveries.body["total"], 1, "{}", deliveries.text);
        assert_eq!(deliveries.body["items"][0]["event_id"], run["event_id"]);

        // The mail: STARTTLS, AUTH, the channel's recipients, the summary in the body.
        assert_eq!(m["tls"], true);
        assert_eq!(m["auth_user"], crate::smtp_server::USER);
        assert_eq!(
            m["rcpt_tos"],
            json!(["sec@example.test", "ops@example.test"])
        );
        assert_eq!(
            m["subject"],
            "[Rampart] Report ready: Daily compliance: Compliance report: Estate-wide"
        );
        let body = m["text"].as_str().unwrap().replace("\r\n", "\n");
        let json_report = download(&t, "/api/v1/reports/compliance", &auditor)
            .await
            .json();
        let s = &json_report["summary"];
        let api = t.get("/api/v1/compliance", &auditor).await.body["estate"].clone();
        assert_eq!(s["findings"]["critical"], api["critical"]);
        for (label, value) in [
            ("Hosts", &s["hosts"]),
            ("Compliant hosts", &s["compliant"]),
            ("Non-compliant hosts", &s["non_compliant"]),
            ("Critical findings", &s["findings"]["critical"]),
            ("Pending security updates", &s["pending_security_updates"]),
        ] {
            assert!(
                body.contains(&format!("{label}: {value}\n")),
                "{label}: {value} missing from the body:\n{body}"
            );
        }
        assert!(body.starts_with(run["summary"].as_str().unwrap()), "{body}");
        assert!(
            s["compliant"].as_u64().unwrap() + s["non_compliant"].as_u64().unwrap() > 0
                && s["stale"] == 0,
            "verdicts, not staleness: {s}"
        );

        // The attachment: the PDF, with the same totals.
        let att = &m["attachments"][0];
        let filename = att["filename"].as_str().unwrap();
        assert!(
            filename.starts_with("rampart-compliance-estate-") && filename.ends_with(".pdf"),
            "{filename}"
        );
        let pdf = std::fs::read(att["path"].as_str().unwrap()).unwrap();
        assert_eq!(run["bytes"], pdf.len());
        if poppler() {
            let text = pdf_text(&pdf);
            assert_eq!(total(&text, "Hosts"), s["hosts"].as_u64().unwrap());
            assert_eq!(
                total(&text, "Compliant hosts"),
                api["compliant"].as_u64().unwrap()
            );
            assert_eq!(
                total(&text, "Critical findings"),
                api["critical"].as_u64().unwrap()
            );
            assert_eq!(
                total(&text, "Pending security updates"),
                s["pending_security_updates"].as_u64().unwrap()
            );
        }
        assert_eq!(smtp.count(), 1, "mailed once");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_runners_claim_a_due_schedule_once() {
    each_backend(|store| async move {
        let t = app(store.clone()).await;
        let admin = Auth::Bearer(t.user_token("ada", Role::Admin).await);
        let ch = idle_channel(&t, &admin).await;
        let created = t
            .call(
                Method::POST,
                "/api/v1/report-schedules",
                &admin,
                Some(
                    json!({"name": "hourly", "report": "findings", "format": "csv",
                            "cron": "0 * * * *", "channel_ids": [ch]}),
                ),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let id = created.body["id"].as_str().unwrap().to_owned();
        assert_eq!(created.body["next_run_at"], T0 + HOUR);
        t.advance(HOUR);
        // Two servers on the same database, at the same instant.
        let other = TestApp::wrap(t.state.clone(), store.clone());
        let (a, b) = tokio::join!(run_due(&t.state), run_due(&other.state));
        assert_eq!(a.unwrap() + b.unwrap(), 1, "exactly one runner ran it");
        let runs = t
            .get(&format!("/api/v1/report-schedules/{id}/runs"), &admin)
            .await;
        assert_eq!(runs.body["total"], 1, "{}", runs.text);
        assert_eq!(runs.body["items"][0]["status"], "queued", "{}", runs.text);
        let pending = t
            .get("/api/v1/notification-deliveries?status=pending", &admin)
            .await;
        assert_eq!(pending.body["total"], 1, "{}", pending.text);
        let schedule = t
            .get(&format!("/api/v1/report-schedules/{id}"), &admin)
            .await;
        assert_eq!(schedule.body["next_run_at"], T0 + 2 * HOUR);
        assert_eq!(run_due(&t.state).await.unwrap(), 0, "not due again yet");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_are_validated_and_can_be_sent_now() {
    each_backend(|store| async move {
        let t = app(store).await;
        seed(&t).await;
        let admin = Auth::Bearer(t.user_token("ada", Role::Admin).await);
        let auditor = Auth::Bearer(t.user_token("audrey", Role::Auditor).await);
        let ch = idle_channel(&t, &admin).await;
        let base = json!({"name": "weekly web", "report": "compliance", "format": "json",
                          "project": "web", "cron": "0 7 * * MON",
                          "timezone": "America/New_York", "channel_ids": [ch]});
        let with = |key: &str, value: Value| {
            let mut body = base.clone();
            body[key] = value;
            body
        };
        for (body, needle) in [
            (with("cron", json!("61 * * * *")), "invalid cron expression"),
            (with("cron", json!("every day")), "invalid cron expression"),
            (with("timezone", json!("Mars/Olympus")), "unknown time zone"),
            (with("report", json!("inventory")), "unknown report"),
            (with("format", json!("docx")), "unknown format"),
            (with("channel_ids", json!(["nope"])), "does not exist"),
            (with("channel_ids", json!([])), "at least one"),
            (
                with("project", json!("nope")),
                r#"project \"nope\" does not exist"#,
            ),
        ] {
            let r = t
                .call(Method::POST, "/api/v1/report-schedules", &admin, Some(body))
                .await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
            assert!(r.text.contains(needle), "{needle:?} not in {}", r.text);
        }
        let denied = t
            .call(
                Method::POST,
                "/api/v1/report-schedules",
                &auditor,
                Some(base.clone()),
            )
            .await;
        assert_eq!(denied.status, StatusCode::FORBIDDEN);

        let created = t
            .call(
                Method::POST,
                "/api/v1/report-schedules",
                &admin,
                Some(base.clone()),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let id = created.body["id"].as_str().unwrap().to_owned();
        // 2026-01-05 is a Monday; 07:00 in New York is 12:00 UTC in January.
        let monday = T0 + (4 * 24 + 12) * HOUR;
        assert_eq!(created.body["next_run_at"], monday);
        let web = t.store.get_project_by_name("web").await.unwrap();
        assert_eq!(created.body["project_id"], web.id.as_str());

        // Send now: a run at once, the schedule's timing untouched.
        let sent = t
            .call(
                Method::POST,
                &format!("/api/v1/report-schedules/{id}/run"),
                &admin,
                None,
            )
            .await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);
        assert_eq!(sent.body["status"], "queued", "{}", sent.text);
        assert!(
            sent.body["summary"]
                .as_str()
                .unwrap()
                .contains("Compliance report: Project web"),
            "{}",
            sent.text
        );
        let after = t
            .get(&format!("/api/v1/report-schedules/{id}"), &admin)
            .await;
        assert_eq!(after.body["next_run_at"], monday);
        let delivery = t
            .get("/api/v1/notification-deliveries?status=pending", &admin)
            .await;
        assert_eq!(delivery.body["total"], 1, "{}", delivery.text);
        assert_eq!(delivery.body["items"][0]["event_id"], sent.body["event_id"]);

        // The channel cannot go while the schedule sends through it.
        let in_use = t
            .call(
                Method::DELETE,
                &format!("/api/v1/notification-channels/{ch}"),
                &admin,
                None,
            )
            .await;
        assert_eq!(in_use.status, StatusCode::CONFLICT, "{}", in_use.text);
        assert!(
            in_use.text.contains(r#"report schedule \"weekly web\""#),
            "{}",
            in_use.text
        );
        assert_eq!(
            t.get(&format!("/api/v1/notification-channels/{ch}"), &admin)
                .await
                .status,
            StatusCode::OK
        );

        // Replace: disabling clears the next run; the list and delete work.
        let mut disabled = base.clone();
        disabled["enabled"] = json!(false);
        let put = t
            .call(
                Method::PUT,
                &format!("/api/v1/report-schedules/{id}"),
                &admin,
                Some(disabled),
            )
            .await;
        assert_eq!(put.status, StatusCode::OK, "{}", put.text);
        assert_eq!(put.body["next_run_at"], Value::Null);
        t.advance(30 * 24 * HOUR);
        assert_eq!(run_due(&t.state).await.unwrap(), 0, "disabled never runs");
        let list = t.get("/api/v1/report-schedules", &auditor).await;
        assert_eq!(list.body["total"], 1, "{}", list.text);
        let deleted = t
            .call(
                Method::DELETE,
                &format!("/api/v1/report-schedules/{id}"),
                &admin,
                None,
            )
            .await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT);
        let gone = t
            .get(&format!("/api/v1/report-schedules/{id}"), &admin)
            .await;
        assert_eq!(gone.status, StatusCode::NOT_FOUND);
        let freed = t
            .call(
                Method::DELETE,
                &format!("/api/v1/notification-channels/{ch}"),
                &admin,
                None,
            )
            .await;
        assert_eq!(freed.status, StatusCode::NO_CONTENT, "{}", freed.text);
    })
    .await;
}
