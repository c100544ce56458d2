//! Conformance cases for notification channels, the delivery outbox and change
//! requests (declared in `conformance.rs`, run on both backends).

use std::collections::BTreeSet;

use rampart_core::change_request::{ChangeRequestItem, ChangeRequestStatus, OverdueUpdate};
use rampart_store::{
    ChangeRequestChange, ChangeRequestFilter, ChannelUpdate, DeliveryFilter, DeliveryStatus, Error,
    NewChannel, NewDelivery, NewProject, Page, Store,
};

use crate::support::{Ctx, labels};

const T0: i64 = 1_750_000_000_000;
const LEASE: i64 = 60_000;

async fn channel(store: &Store, name: &str) -> String {
    store
        .create_channel(
            NewChannel {
                name,
                kind: "webhook",
                config: r#"{"url":"https://hooks.example.com/x"}"#,
                secret: Some("AQID"),
                events: &["finding.critical".to_owned()],
                project_id: None,
                enabled: true,
            },
            T0,
        )
        .await
        .unwrap()
        .id
}

pub(crate) async fn notification_channels_crud(ctx: Ctx) {
    let s = &ctx.store;
    let project = s
        .create_project(
            NewProject {
                name: "web",
                description: "",
                selector: &labels(&[("env", "prod")]),
            },
            T0,
        )
        .await
        .unwrap();
    let events = vec!["report.ready".to_owned(), "host.stale".to_owned()];
    let mail = s
        .create_channel(
            NewChannel {
                name: "security-mail",
                kind: "email",
                config: r#"{"host":"smtp.example.com"}"#,
                secret: Some("sealed-password"),
                events: &events,
                project_id: Some(&project.id),
                enabled: false,
            },
            T0,
        )
        .await
        .unwrap();
    assert_eq!(mail.events, events);
    assert_eq!(mail.project_id.as_deref(), Some(project.id.as_str()));
    assert!(!mail.enabled);
    assert_eq!(mail.secret.as_deref(), Some("sealed-password"));
    assert_eq!(s.get_channel(&mail.id).await.unwrap(), mail);

    let hook = channel(s, "ticketing").await;
    assert!(matches!(
        s.create_channel(
            NewChannel {
                name: "ticketing",
                kind: "webhook",
                config: "{}",
                secret: None,
                events: &[],
                project_id: None,
                enabled: true,
            },
            T0
        )
        .await,
        Err(Error::Conflict { .. })
    ));
    assert!(matches!(
        s.create_channel(
            NewChannel {
                name: "orphan",
                kind: "webhook",
                config: "{}",
                secret: None,
                events: &[],
                project_id: Some("no-such-project"),
                enabled: true,
            },
            T0
        )
        .await,
        Err(Error::NotFound { .. })
    ));
    let names: Vec<_> = s
        .list_channels()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["security-mail", "ticketing"]);

    // Enable, clear the secret and the project filter, keep the rest.
    let updated = s
        .update_channel(
            &mail.id,
            ChannelUpdate {
                enabled: Some(true),
                secret: Some(None),
                project_id: Some(None),
                ..ChannelUpdate::default()
            },
            T0 + 1,
        )
        .await
        .unwrap();
    assert!(updated.enabled);
    assert_eq!(updated.secret, None);
    assert_eq!(updated.project_id, None);
    assert_eq!(updated.events, events);
    assert_eq!(updated.name, "security-mail");
    assert_eq!(updated.updated_at, T0 + 1);
    let renamed = s
        .update_channel(
            &mail.id,
            ChannelUpdate {
                name: Some("mail"),
                enabled: Some(false),
                events: Some(&["test".to_owned()]),
                secret: Some(Some("new")),
                ..ChannelUpdate::default()
            },
            T0 + 2,
        )
        .await
        .unwrap();
    assert_eq!(
        (
            renamed.name.as_str(),
            renamed.enabled,
            renamed.secret.as_deref()
        ),
        ("mail", false, Some("new"))
    );
    assert_eq!(renamed.events, ["test"]);
    assert!(matches!(
        s.update_channel("nope", ChannelUpdate::default(), T0).await,
        Err(Error::NotFound { .. })
    ));

    // Deleting a channel removes its outbox rows.
    s.enqueue_deliveries(
        &[NewDelivery {
            channel_id: &hook,
            event_id: "e1",
            event_kind: "finding.critical",
            payload: "{}",
        }],
        T0,
    )
    .await
    .unwrap();
    s.delete_channel(&hook).await.unwrap();
    assert_eq!(
        s.list_deliveries(&DeliveryFilter::default(), Page::default())
            .await
            .unwrap()
            .total,
        0
    );
    assert!(matches!(
        s.delete_channel(&hook).await,
        Err(Error::NotFound { .. })
    ));
    // Deleting a project removes channels filtered on it.
    let filtered = s
        .update_channel(
            &mail.id,
            ChannelUpdate {
                project_id: Some(Some(&project.id)),
                ..ChannelUpdate::default()
            },
            T0 + 3,
        )
        .await
        .unwrap();
    s.delete_project(&project.id).await.unwrap();
    assert!(matches!(
        s.get_channel(&filtered.id).await,
        Err(Error::NotFound { .. })
    ));
}

pub(crate) async fn outbox_claims_retries_and_leases(ctx: Ctx) {
    let s = &ctx.store;
    let a = channel(s, "a").await;
    let b = channel(s, "b").await;
    let queued = s
        .enqueue_deliveries(
            &[
                NewDelivery {
                    channel_id: &a,
                    event_id: "e1",
                    event_kind: "finding.critical",
                    payload: r#"{"id":"e1"}"#,
                },
                NewDelivery {
                    channel_id: &b,
                    event_id: "e1",
                    event_kind: "finding.critical",
                    payload: r#"{"id":"e1"}"#,
                },
            ],
            T0,
        )
        .await
        .unwrap();
    assert_eq!(queued.len(), 2);
    assert!(queued.iter().all(|d| d.status == DeliveryStatus::Pending
        && d.attempts == 0
        && d.next_attempt_at == T0));
    // The same (channel, event) again is not queued twice.
    let again = s
        .enqueue_deliveries(
            &[
                NewDelivery {
                    channel_id: &a,
                    event_id: "e1",
                    event_kind: "finding.critical",
                    payload: "{}",
                },
                NewDelivery {
                    channel_id: &a,
                    event_id: "e2",
                    event_kind: "host.stale",
                    payload: r#"{"id":"e2"}"#,
                },
            ],
            T0 + 10,
        )
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].event_id, "e2");

    // One row by id: only when pending and due, and only once.
    let by_id = s
        .enqueue_deliveries(
            &[NewDelivery {
                channel_id: &b,
                event_id: "e-test",
                event_kind: "test",
                payload: "{}",
            }],
            T0 + 5,
        )
        .await
        .unwrap()
        .remove(0);
    assert!(
        s.claim_delivery(&by_id.id, T0, LEASE)
            .await
            .unwrap()
            .is_none()
    );
    let one = s
        .claim_delivery(&by_id.id, T0 + 5, LEASE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(one.delivery.attempts, 1);
    assert!(
        s.claim_delivery(&by_id.id, T0 + 5, LEASE)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.delivery_succeeded(&one.delivery.id, &one.claim_token, T0 + 6)
            .await
            .unwrap()
    );

    // Nothing is due before its time.
    assert!(
        s.claim_due_deliveries(T0 - 1, LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let first = s.claim_due_deliveries(T0 + 10, LEASE, 2).await.unwrap();
    assert_eq!(first.len(), 2);
    assert!(first.iter().all(|c| c.delivery.attempts == 1));
    let rest = s.claim_due_deliveries(T0 + 10, LEASE, 10).await.unwrap();
    assert_eq!(rest.len(), 1, "claimed rows are leased, not claimed again");
    assert_ne!(rest[0].claim_token, first[0].claim_token);
    let claimed: BTreeSet<_> = first
        .iter()
        .chain(&rest)
        .map(|c| c.delivery.id.clone())
        .collect();
    assert_eq!(claimed.len(), 3);

    // Success, under the right token only.
    let d0 = &first[0];
    assert!(
        !s.delivery_succeeded(&d0.delivery.id, "stale-token", T0 + 20)
            .await
            .unwrap()
    );
    assert!(
        s.delivery_succeeded(&d0.delivery.id, &d0.claim_token, T0 + 20)
            .await
            .unwrap()
    );
    let done = s.get_delivery(&d0.delivery.id).await.unwrap();
    assert_eq!(done.status, DeliveryStatus::Delivered);
    assert_eq!(done.delivered_at, Some(T0 + 20));
    assert!(
        !s.delivery_succeeded(&d0.delivery.id, &d0.claim_token, T0 + 21)
            .await
            .unwrap()
    );

    // A failure with a retry time: pending, visible, due again only then.
    let d1 = &first[1];
    assert!(
        s.delivery_failed(
            &d1.delivery.id,
            &d1.claim_token,
            "HTTP 500",
            Some(T0 + 5_000),
            T0 + 20
        )
        .await
        .unwrap()
    );
    let failing = s.get_delivery(&d1.delivery.id).await.unwrap();
    assert_eq!(failing.status, DeliveryStatus::Pending);
    assert_eq!(failing.last_error.as_deref(), Some("HTTP 500"));
    assert_eq!(failing.next_attempt_at, T0 + 5_000);
    assert_eq!(failing.attempts, 1);
    assert!(
        s.claim_due_deliveries(T0 + 4_999, LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let retry = s.claim_due_deliveries(T0 + 5_000, LEASE, 10).await.unwrap();
    assert_eq!(retry.len(), 1);
    assert_eq!(retry[0].delivery.id, d1.delivery.id);
    assert_eq!(retry[0].delivery.attempts, 2);
    // Given up.
    assert!(
        s.delivery_failed(
            &retry[0].delivery.id,
            &retry[0].claim_token,
            "HTTP 404",
            None,
            T0 + 5_001
        )
        .await
        .unwrap()
    );
    let failed = s.get_delivery(&d1.delivery.id).await.unwrap();
    assert_eq!(failed.status, DeliveryStatus::Failed);
    assert_eq!(failed.last_error.as_deref(), Some("HTTP 404"));

    // Listing with filters.
    let by_status = |status| {
        let s = s.clone();
        async move {
            s.list_deliveries(
                &DeliveryFilter {
                    status: Some(status),
                    ..DeliveryFilter::default()
                },
                Page::default(),
            )
            .await
            .unwrap()
        }
    };
    assert_eq!(by_status(DeliveryStatus::Failed).await.total, 1);
    assert_eq!(by_status(DeliveryStatus::Delivered).await.total, 2);
    assert_eq!(by_status(DeliveryStatus::Pending).await.total, 1);
    let for_b = s
        .list_deliveries(
            &DeliveryFilter {
                channel_id: Some(b.clone()),
                ..DeliveryFilter::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(for_b.total, 2);
    let page = s
        .list_deliveries(
            &DeliveryFilter::default(),
            Page {
                limit: 2,
                offset: 0,
            },
        )
        .await
        .unwrap();
    assert_eq!((page.items.len(), page.total), (2, 4));

    // A manual retry makes a failed delivery due now; a delivered one refuses.
    let retried = s.retry_delivery(&d1.delivery.id, T0 + 6_000).await.unwrap();
    assert_eq!(retried.status, DeliveryStatus::Pending);
    assert_eq!(retried.next_attempt_at, T0 + 6_000);
    assert!(matches!(
        s.retry_delivery(&d0.delivery.id, T0).await,
        Err(Error::Conflict { .. })
    ));
    assert!(matches!(
        s.retry_delivery("nope", T0).await,
        Err(Error::NotFound { .. })
    ));

    // A lease that expires: the row is claimed again under a new token and the old
    // claimant's late result is ignored.
    let stuck = &rest[0];
    let reclaimed = s
        .claim_due_deliveries(T0 + 10 + LEASE, LEASE, 10)
        .await
        .unwrap();
    let ids: BTreeSet<_> = reclaimed.iter().map(|c| c.delivery.id.clone()).collect();
    assert!(ids.contains(&stuck.delivery.id));
    let new = reclaimed
        .iter()
        .find(|c| c.delivery.id == stuck.delivery.id)
        .unwrap();
    assert_eq!(new.delivery.attempts, 2);
    assert!(
        !s.delivery_failed(
            &stuck.delivery.id,
            &stuck.claim_token,
            "late",
            None,
            T0 + LEASE + 20
        )
        .await
        .unwrap()
    );
    assert!(
        s.delivery_succeeded(&new.delivery.id, &new.claim_token, T0 + LEASE + 20)
            .await
            .unwrap()
    );

    // Purging the history: finished deliveries last touched before the cutoff go;
    // pending ones and newer ones stay.
    let all = |s: Store| async move {
        s.list_deliveries(&DeliveryFilter::default(), Page::default())
            .await
            .unwrap()
            .items
    };
    let before = all(s.clone()).await;
    let cutoff = T0 + LEASE;
    let old: BTreeSet<String> = before
        .iter()
        .filter(|d| d.status != DeliveryStatus::Pending && d.updated_at < cutoff)
        .map(|d| d.id.clone())
        .collect();
    assert!(old.len() >= 2, "{before:?}");
    assert!(old.contains(&d0.delivery.id));
    assert_eq!(s.purge_deliveries(cutoff).await.unwrap(), old.len() as u64);
    let after: BTreeSet<String> = all(s.clone()).await.into_iter().map(|d| d.id).collect();
    let expected: BTreeSet<String> = before
        .iter()
        .map(|d| d.id.clone())
        .filter(|id| !old.contains(id))
        .collect();
    assert_eq!(after, expected);
    assert!(
        after.contains(&stuck.delivery.id),
        "delivered after the cutoff"
    );
    assert!(after.contains(&d1.delivery.id), "pending");
    assert_eq!(s.purge_deliveries(cutoff).await.unwrap(), 0);
    s.purge_deliveries(i64::MAX).await.unwrap();
    assert!(
        all(s.clone())
            .await
            .iter()
            .all(|d| d.status == DeliveryStatus::Pending)
    );
}

pub(crate) async fn concurrent_claims_are_disjoint(ctx: Ctx) {
    let s = &ctx.store;
    let a = channel(s, "a").await;
    let events: Vec<String> = (0..40).map(|i| format!("e{i:02}")).collect();
    let rows: Vec<NewDelivery<'_>> = events
        .iter()
        .map(|e| NewDelivery {
            channel_id: &a,
            event_id: e,
            event_kind: "host.stale",
            payload: "{}",
        })
        .collect();
    s.enqueue_deliveries(&rows, T0).await.unwrap();
    // Four dispatchers on their own connections claim at once, in small batches.
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let store = ctx.reopen().await;
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = store.claim_due_deliveries(T0 + 1, LEASE, 3).await.unwrap();
                if got.is_empty() {
                    break;
                }
                mine.extend(got.into_iter().map(|c| c.delivery.id));
            }
            store.close().await;
            mine
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let distinct: BTreeSet<_> = all.iter().cloned().collect();
    assert_eq!(all.len(), 40, "every row claimed exactly once");
    assert_eq!(distinct.len(), 40);
}

fn items(hosts: &[(&str, &str)]) -> Vec<ChangeRequestItem> {
    hosts
        .iter()
        .map(|(id, name)| ChangeRequestItem {
            host_id: (*id).into(),
            hostname: (*name).into(),
            updates: vec![OverdueUpdate {
                package: "openssl".into(),
                installed: "3.0.11-1~deb12u1".into(),
                candidate: "3.0.11-1~deb12u2".into(),
                pending_since: T0 - 10 * 86_400_000,
            }],
        })
        .collect()
}

pub(crate) async fn change_requests_one_open_per_project(ctx: Ctx) {
    let s = &ctx.store;
    let new_project = |name: &'static str| {
        let s = s.clone();
        async move {
            s.create_project(
                NewProject {
                    name,
                    description: "",
                    selector: &labels(&[]),
                },
                T0,
            )
            .await
            .unwrap()
        }
    };
    let web = new_project("web").await;
    let db = new_project("db").await;

    let (cr, change) = s
        .open_or_update_change_request(&web.id, &items(&[("h1", "web-1")]), T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(change, ChangeRequestChange::Opened);
    assert_eq!(cr.status, ChangeRequestStatus::Open);
    assert_eq!(cr.project_name, "web");
    assert_eq!(cr.items, items(&[("h1", "web-1")]));

    let (same, change) = s
        .open_or_update_change_request(&web.id, &items(&[("h1", "web-1")]), T0 + 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(change, ChangeRequestChange::Unchanged);
    assert_eq!(same, cr, "unchanged items touch nothing");

    let two = items(&[("h1", "web-1"), ("h2", "web-2")]);
    let (updated, change) = s
        .open_or_update_change_request(&web.id, &two, T0 + 2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(change, ChangeRequestChange::Updated);
    assert_eq!(updated.id, cr.id, "updated in place");
    assert_eq!(updated.items, two);
    assert_eq!((updated.created_at, updated.updated_at), (T0, T0 + 2));

    let with_ref = s
        .set_change_request_external_ref(&cr.id, "OPS-42", T0 + 3)
        .await
        .unwrap();
    assert_eq!(with_ref.external_ref.as_deref(), Some("OPS-42"));

    // No items: the open one closes; again: nothing to do.
    let (closed, change) = s
        .open_or_update_change_request(&web.id, &[], T0 + 4)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(change, ChangeRequestChange::Closed);
    assert_eq!(closed.status, ChangeRequestStatus::Closed);
    assert_eq!(closed.closed_at, Some(T0 + 4));
    assert!(
        s.open_or_update_change_request(&web.id, &[], T0 + 5)
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        s.open_or_update_change_request("no-such-project", &[], T0)
            .await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        s.open_or_update_change_request("no-such-project", &two, T0)
            .await,
        Err(Error::NotFound { .. })
    ));

    // A new one after closing; closing by hand; closing twice changes nothing.
    let (reopened, change) = s
        .open_or_update_change_request(&web.id, &two, T0 + 6)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(change, ChangeRequestChange::Opened);
    assert_ne!(reopened.id, cr.id);
    let by_hand = s.close_change_request(&reopened.id, T0 + 7).await.unwrap();
    assert_eq!(by_hand.status, ChangeRequestStatus::Closed);
    assert_eq!(
        s.close_change_request(&reopened.id, T0 + 8).await.unwrap(),
        by_hand
    );
    assert!(matches!(
        s.close_change_request("nope", T0).await,
        Err(Error::NotFound { .. })
    ));

    // Several servers racing to open for one project: exactly one open request.
    let mut tasks = Vec::new();
    for i in 0..4 {
        let store = ctx.reopen().await;
        let project = db.id.clone();
        tasks.push(tokio::spawn(async move {
            let r = store
                .open_or_update_change_request(&project, &items(&[("h9", "db-1")]), T0 + 10 + i)
                .await
                .unwrap()
                .unwrap();
            store.close().await;
            r
        }));
    }
    let mut ids = BTreeSet::new();
    let mut opened = 0;
    for t in tasks {
        let (cr, change) = t.await.unwrap();
        ids.insert(cr.id);
        opened += usize::from(change == ChangeRequestChange::Opened);
    }
    assert_eq!((ids.len(), opened), (1, 1));

    let open = s
        .list_change_requests(
            &ChangeRequestFilter {
                status: Some(ChangeRequestStatus::Open),
                ..ChangeRequestFilter::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(open.total, 1);
    assert_eq!(open.items[0].project_name, "db");
    let web_all = s
        .list_change_requests(
            &ChangeRequestFilter {
                project_id: Some(web.id.clone()),
                ..ChangeRequestFilter::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(web_all.total, 2);
    assert_eq!(
        web_all.items[0].id, reopened.id,
        "most recently updated first"
    );
}
