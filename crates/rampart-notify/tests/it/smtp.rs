//! Mail against a real SMTP server (`smtp_server.rs`: Debian's aiosmtpd requiring
//! STARTTLS and AUTH): recipients, subject, body summary and attachment bytes as the
//! server received them, and the refusals.

use std::path::PathBuf;

use rampart_core::egress::EgressPolicy;
use rampart_notify::email::{self, SmtpSecurity};
use rampart_notify::event::{ReportReady, TestEvent};
use rampart_notify::{Attachment, Event, Payload, SendError};

use crate::smtp_server::{PASSWORD, USER, start_smtp};

fn report_event() -> (Event, Vec<u8>) {
    let pdf: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let mut event = Event::new(
        Payload::ReportReady(ReportReady {
            report: "compliance".into(),
            title: "Weekly compliance, project web".into(),
            project_id: Some("p1".into()),
            summary: "Hosts: 12\nNon-compliant: 3\nCritical findings: 1\n".into(),
            url: None,
        }),
        vec!["p1".into()],
        1_750_000_000_000,
    );
    event.attachments = vec![
        Attachment {
            filename: "compliance.pdf".into(),
            content_type: "application/pdf".into(),
            content: pdf.clone(),
        },
        Attachment {
            filename: "compliance.csv".into(),
            content_type: "text/csv".into(),
            content: b"host,state\r\nweb-1,compliant\r\n=cmd,x\r\n".to_vec(),
        },
    ];
    (event, pdf)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_auth_body_and_attachments_arrive() {
    let Some(server) = start_smtp() else { return };
    let (event, pdf) = report_event();
    email::send(
        &server.config(),
        Some(PASSWORD),
        &event,
        &EgressPolicy::any(),
    )
    .await
    .expect("send");
    let m = server.message(1);
    assert_eq!(m["tls"], true, "STARTTLS was used");
    assert_eq!(m["auth_user"], USER);
    assert_eq!(m["mail_from"], "rampart@example.test");
    assert_eq!(
        m["rcpt_tos"],
        serde_json::json!(["sec@example.test", "ops@example.test"])
    );
    assert_eq!(
        m["subject"],
        "[Rampart] Report ready: Weekly compliance, project web"
    );
    let text = m["text"].as_str().unwrap();
    assert!(text.contains("Non-compliant: 3"), "{text}");
    assert!(text.contains(&event.id), "{text}");
    let atts = m["attachments"].as_array().unwrap();
    assert_eq!(atts.len(), 2);
    assert_eq!(atts[0]["filename"], "compliance.pdf");
    assert_eq!(atts[0]["content_type"], "application/pdf");
    assert_eq!(
        std::fs::read(PathBuf::from(atts[0]["path"].as_str().unwrap())).unwrap(),
        pdf
    );
    assert_eq!(atts[1]["filename"], "compliance.csv");
    assert_eq!(
        std::fs::read(PathBuf::from(atts[1]["path"].as_str().unwrap())).unwrap(),
        event.attachments[1].content
    );
}

fn test_event() -> Event {
    Event::new(
        Payload::Test(TestEvent {
            channel: "mail".into(),
            requested_by: "alice".into(),
        }),
        vec![],
        1_750_000_000_000,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_classified_and_nothing_is_delivered() {
    let Some(server) = start_smtp() else { return };

    // Wrong password: the server answers 535, a permanent refusal.
    let err = email::send(
        &server.config(),
        Some("wrong"),
        &test_event(),
        &EgressPolicy::any(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            SendError::Smtp {
                permanent: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.failure().retryable);

    // No CA configured: the private certificate does not verify; no clear-text fallback.
    let mut untrusted = server.config();
    untrusted.ca_pem = None;
    let err = email::send(
        &untrusted,
        Some(PASSWORD),
        &test_event(),
        &EgressPolicy::any(),
    )
    .await
    .unwrap_err();
    assert!(err.failure().retryable, "{err:?}");

    // Plain to a server that insists on STARTTLS: refused before any credential is sent.
    let mut plain = server.config();
    plain.security = SmtpSecurity::Plain;
    let err = email::send(&plain, Some(PASSWORD), &test_event(), &EgressPolicy::any())
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::Smtp { .. }), "{err:?}");

    // Implicit TLS against a STARTTLS port fails the handshake.
    let mut implicit = server.config();
    implicit.security = SmtpSecurity::Tls;
    email::send(
        &implicit,
        Some(PASSWORD),
        &test_event(),
        &EgressPolicy::any(),
    )
    .await
    .unwrap_err();

    // The server's default egress policy refuses a relay on an internal address (a
    // port scanner otherwise), for good: retrying cannot help.
    let err = email::send(
        &server.config(),
        Some(PASSWORD),
        &test_event(),
        &EgressPolicy::public_only(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, SendError::Config(_)), "{err:?}");
    assert!(err.to_string().contains("internal address"), "{err}");
    assert!(!err.failure().retryable);

    assert_eq!(server.count(), 0, "nothing was accepted");

    // And the right settings still work on the same server.
    email::send(
        &server.config(),
        Some(PASSWORD),
        &test_event(),
        &EgressPolicy::any(),
    )
    .await
    .expect("send");
    assert_eq!(
        server.message(1)["subject"],
        "[Rampart] Test notification for channel mail"
    );
}
