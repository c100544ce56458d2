//! Notifications and change requests.
//!
//! - **Channels**: where events go (mail or webhook), which event kinds they take, an
//!   optional project filter. The channel's secret arrives here already sealed by the
//!   server (this crate never sees it in clear) and is stored as opaque text.
//! - **Deliveries**, the outbox: one row per (channel, event), written when the event
//!   is emitted, so nothing is lost if the server stops before sending. Dispatchers
//!   claim due rows with [`Store::claim_due_deliveries`]: on PostgreSQL one
//!   `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)`, so several replicas
//!   never claim the same row; on SQLite the same statement inside the single-writer
//!   lock. A claim sets a lease (`next_attempt_at`) and a claim token; results are
//!   recorded only under the token that claimed, so a dispatcher whose lease expired
//!   cannot overwrite a newer attempt.
//! - **Change requests**: a project's overdue security updates; at most one open per
//!   project (a partial unique index), updated in place.

use rampart_core::change_request::{ChangeRequestItem, ChangeRequestStatus};
use sqlx::QueryBuilder;

use crate::users::affected;
use crate::{
    BackendKind, BeginWrite as _, Error, Millis, Page, Paged, Result, RowExt, Store, found,
    from_json, like_contains, new_id, to_json, with_pool,
};

/// A notification channel. `config` is the kind's JSON settings; `secret` the sealed
/// secret (webhook signing key, SMTP password).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotificationChannel {
    pub id: String,
    pub name: String,
    /// `email` or `webhook`.
    pub kind: String,
    pub config: String,
    pub secret: Option<String>,
    /// Event kinds subscribed to.
    pub events: Vec<String>,
    /// Only events concerning this project.
    pub project_id: Option<String>,
    pub enabled: bool,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// What [`Store::create_channel`] needs.
#[derive(Clone, Debug)]
pub struct NewChannel<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub config: &'a str,
    pub secret: Option<&'a str>,
    pub events: &'a [String],
    pub project_id: Option<&'a str>,
    pub enabled: bool,
}

/// The fields [`Store::update_channel`] changes; `None` leaves one as it is
/// (`Some(None)` clears an optional one).
#[derive(Clone, Debug, Default)]
pub struct ChannelUpdate<'a> {
    pub name: Option<&'a str>,
    pub config: Option<&'a str>,
    pub secret: Option<Option<&'a str>>,
    pub events: Option<&'a [String]>,
    pub project_id: Option<Option<&'a str>>,
    pub enabled: Option<bool>,
}

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// Not delivered yet: due at `next_attempt_at` (after a failure, `last_error` says
    /// why the previous attempt failed).
    Pending,
    Delivered,
    /// Given up: not retryable, or out of attempts. A manual retry makes it pending.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }
}

impl std::str::FromStr for DeliveryStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<DeliveryStatus, String> {
        match s {
            "pending" => Ok(DeliveryStatus::Pending),
            "delivered" => Ok(DeliveryStatus::Delivered),
            "failed" => Ok(DeliveryStatus::Failed),
            _ => Err(format!(
                "unknown delivery status {s:?} (expected pending, delivered or failed)"
            )),
        }
    }
}

/// One (channel, event) in the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub id: String,
    pub channel_id: String,
    pub event_id: String,
    pub event_kind: String,
    /// The event in its stored form (rampart-notify's `Event`).
    pub payload: String,
    pub status: DeliveryStatus,
    /// Attempts started so far.
    pub attempts: u32,
    pub next_attempt_at: Millis,
    pub last_error: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub delivered_at: Option<Millis>,
}

/// A delivery claimed by one dispatcher: send it, then record the result with
/// `claim_token`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimedDelivery {
    pub delivery: Delivery,
    pub claim_token: String,
}

/// A row for [`Store::enqueue_deliveries`].
#[derive(Clone, Debug)]
pub struct NewDelivery<'a> {
    pub channel_id: &'a str,
    pub event_id: &'a str,
    pub event_kind: &'a str,
    pub payload: &'a str,
}

/// Which deliveries [`Store::list_deliveries`] returns.
#[derive(Clone, Debug, Default)]
pub struct DeliveryFilter {
    pub status: Option<DeliveryStatus>,
    pub channel_id: Option<String>,
    pub event_id: Option<String>,
}

/// A project's change request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeRequest {
    pub id: String,
    pub project_id: String,
    pub project_name: String,
    pub status: ChangeRequestStatus,
    pub items: Vec<ChangeRequestItem>,
    /// The ticketing system's reference, once one answered.
    pub external_ref: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub closed_at: Option<Millis>,
}

/// What [`Store::open_or_update_change_request`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeRequestChange {
    Opened,
    Updated,
    /// The open request already had exactly these items.
    Unchanged,
    /// No items: the open request was closed.
    Closed,
}

/// Deliveries in trouble, for the dashboard's warning: given up (`failed`) and
/// still pending after a failed attempt (`retrying`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeliveryTrouble {
    pub failed: u64,
    pub retrying: u64,
}

/// Which change requests [`Store::list_change_requests`] returns.
#[derive(Clone, Debug, Default)]
pub struct ChangeRequestFilter {
    pub project_id: Option<String>,
    pub status: Option<ChangeRequestStatus>,
}

const CHANNEL_COLUMNS: &str = "id, name, kind, config, secret, events, project_id, \
     created_at, updated_at, disabled_at";

const DELIVERY_COLUMNS: &str = "id, channel_id, event_id, event_kind, payload, status, \
     attempts, next_attempt_at, last_error, created_at, updated_at, delivered_at";

const CHANGE_REQUEST_COLUMNS: &str = "c.id, c.project_id, p.name AS project_name, c.status, \
     c.items, c.external_ref, c.created_at, c.updated_at, c.closed_at";

fn channel(row: &impl RowExt) -> Result<NotificationChannel> {
    Ok(NotificationChannel {
        id: row.text("id")?,
        name: row.text("name")?,
        kind: row.text("kind")?,
        config: row.text("config")?,
        secret: row.opt_text("secret")?,
        events: from_json("channel events", &row.text("events")?)?,
        project_id: row.opt_text("project_id")?,
        enabled: row.opt_int("disabled_at")?.is_none(),
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

fn delivery(row: &impl RowExt) -> Result<Delivery> {
    Ok(Delivery {
        id: row.text("id")?,
        channel_id: row.text("channel_id")?,
        event_id: row.text("event_id")?,
        event_kind: row.text("event_kind")?,
        payload: row.text("payload")?,
        status: row
            .text("status")?
            .parse()
            .unwrap_or(DeliveryStatus::Failed),
        attempts: u32::try_from(row.int("attempts")?).unwrap_or(u32::MAX),
        next_attempt_at: row.int("next_attempt_at")?,
        last_error: row.opt_text("last_error")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
        delivered_at: row.opt_int("delivered_at")?,
    })
}

fn change_request(row: &impl RowExt) -> Result<ChangeRequest> {
    Ok(ChangeRequest {
        id: row.text("id")?,
        project_id: row.text("project_id")?,
        project_name: row.text("project_name")?,
        status: row
            .text("status")?
            .parse()
            .unwrap_or(ChangeRequestStatus::Closed),
        items: from_json("change request items", &row.text("items")?)?,
        external_ref: row.opt_text("external_ref")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
        closed_at: row.opt_int("closed_at")?,
    })
}

impl Store {
    /// The open critical findings as (host id, advisory, package), of one host or of
    /// every host: the notifier compares them before and after a recomputation to find
    /// the ones that are new.
    pub async fn critical_finding_keys(
        &self,
        host_id: Option<&str>,
    ) -> Result<std::collections::HashSet<(String, String, String)>> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT DISTINCT host_id, advisory_id, package FROM findings
                  WHERE severity_rank = 4 AND ($1 IS NULL OR host_id = $1)",
            )
            .bind(host_id)
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| Ok((r.text("host_id")?, r.text("advisory_id")?, r.text("package")?)))
                .collect()
        })
    }

    /// Creates a channel; [`Error::Conflict`] when the name is taken, [`Error::NotFound`]
    /// when the project does not exist.
    pub async fn create_channel(
        &self,
        new: NewChannel<'_>,
        now: Millis,
    ) -> Result<NotificationChannel> {
        let id = new_id(now);
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO notification_channels (id, name, kind, config, secret, events,
                     project_id, created_at, updated_at, disabled_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9)",
            )
            .bind(&id)
            .bind(new.name)
            .bind(new.kind)
            .bind(new.config)
            .bind(new.secret)
            .bind(to_json(&new.events))
            .bind(new.project_id)
            .bind(now)
            .bind((!new.enabled).then_some(now))
            .execute(pool)
            .await
            .map_err(Error::on_write("notification channel"))?;
        });
        self.get_channel(&id).await
    }

    pub async fn get_channel(&self, id: &str) -> Result<NotificationChannel> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {CHANNEL_COLUMNS} FROM notification_channels WHERE id = $1"
        ));
        with_pool!(self, pool => {
            let row = sqlx::query(sql).bind(id).fetch_optional(pool).await?;
            channel(&found("notification channel", row)?)
        })
    }

    /// Every channel, by name.
    pub async fn list_channels(&self) -> Result<Vec<NotificationChannel>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {CHANNEL_COLUMNS} FROM notification_channels ORDER BY name, id"
        ));
        with_pool!(self, pool => {
            let rows = sqlx::query(sql).fetch_all(pool).await?;
            rows.iter().map(channel).collect()
        })
    }

    pub async fn update_channel(
        &self,
        id: &str,
        update: ChannelUpdate<'_>,
        now: Millis,
    ) -> Result<NotificationChannel> {
        with_pool!(self, pool => {
            let done = sqlx::query(
                "UPDATE notification_channels SET
                     name = COALESCE($2, name),
                     config = COALESCE($3, config),
                     secret = CASE WHEN $4 = 1 THEN $5 ELSE secret END,
                     events = COALESCE($6, events),
                     project_id = CASE WHEN $7 = 1 THEN $8 ELSE project_id END,
                     disabled_at = CASE WHEN $9 = 1 THEN NULL
                                        WHEN $9 = 0 THEN COALESCE(disabled_at, $10)
                                        ELSE disabled_at END,
                     updated_at = $10
                 WHERE id = $1",
            )
            .bind(id)
            .bind(update.name)
            .bind(update.config)
            .bind(i64::from(update.secret.is_some()))
            .bind(update.secret.flatten())
            .bind(update.events.map(|e| to_json(&e)))
            .bind(i64::from(update.project_id.is_some()))
            .bind(update.project_id.flatten())
            .bind(update.enabled.map(i64::from).unwrap_or(-1))
            .bind(now)
            .execute(pool)
            .await
            .map_err(Error::on_write("notification channel"))?;
            affected("notification channel", done.rows_affected())?;
        });
        self.get_channel(id).await
    }

    /// Deletes a channel and its deliveries; [`Error::InUse`] naming the report schedules
    /// that still send through it (a schedule's run would otherwise fail at its next
    /// occurrence, long after the mistake).
    pub async fn delete_channel(&self, id: &str) -> Result<()> {
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            // Report schedules keep their channels as a JSON array of ids: a text match
            // narrows the rows, the decoded list decides.
            let rows = sqlx::query(
                "SELECT name, channel_ids FROM report_schedules
                 WHERE channel_ids LIKE $1 ESCAPE '\\' ORDER BY name",
            )
            .bind(like_contains(&to_json(&id)))
            .fetch_all(&mut *tx)
            .await?;
            let mut users = Vec::new();
            for row in &rows {
                let ids: Vec<String> = from_json("report channels", &row.text("channel_ids")?)?;
                if ids.iter().any(|c| c == id) {
                    users.push(format!("{:?}", row.text("name")?));
                }
            }
            if !users.is_empty() {
                return Err(Error::InUse {
                    entity: "notification channel",
                    by: format!(
                        "report schedule{} {}; take it out of {} first",
                        if users.len() == 1 { "" } else { "s" },
                        users.join(", "),
                        if users.len() == 1 { "that schedule" } else { "those schedules" },
                    ),
                });
            }
            sqlx::query("DELETE FROM notification_deliveries WHERE channel_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let done = sqlx::query("DELETE FROM notification_channels WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            affected("notification channel", done.rows_affected())?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Writes the outbox rows for one or more (channel, event) pairs in one
    /// transaction, due at `now`. A pair already queued is left alone (emitting the
    /// same event twice delivers it once). Returns the rows written.
    pub async fn enqueue_deliveries(
        &self,
        rows: &[NewDelivery<'_>],
        now: Millis,
    ) -> Result<Vec<Delivery>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "INSERT INTO notification_deliveries (id, channel_id, event_id, event_kind, payload,
                 status, attempts, next_attempt_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6, $6)
             ON CONFLICT (channel_id, event_id) DO NOTHING
             RETURNING {DELIVERY_COLUMNS}"
        );
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                let row = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                    .bind(new_id(now))
                    .bind(r.channel_id)
                    .bind(r.event_id)
                    .bind(r.event_kind)
                    .bind(r.payload)
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(Error::on_write("notification delivery"))?;
                if let Some(row) = row {
                    out.push(delivery(&row)?);
                }
            }
            tx.commit().await?;
            Ok(out)
        })
    }

    /// Claims up to `limit` pending deliveries due at `now` (oldest due first) for
    /// `lease_ms`: each gets one more attempt counted, a lease until `now + lease_ms`
    /// and a fresh claim token. Safe with several servers on one PostgreSQL database
    /// (`FOR UPDATE SKIP LOCKED`: concurrent claimers take disjoint rows).
    pub async fn claim_due_deliveries(
        &self,
        now: Millis,
        lease_ms: Millis,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>> {
        let lock = match self.backend() {
            BackendKind::Postgres => " FOR UPDATE SKIP LOCKED",
            BackendKind::Sqlite => "",
        };
        let sql = sqlx::AssertSqlSafe(format!(
            "UPDATE notification_deliveries
                SET claim_token = $1, attempts = attempts + 1, next_attempt_at = $2,
                    updated_at = $3
              WHERE id IN (SELECT id FROM notification_deliveries
                            WHERE status = 'pending' AND next_attempt_at <= $3
                            ORDER BY next_attempt_at, id LIMIT $4{lock})
              RETURNING {DELIVERY_COLUMNS}"
        ));
        let token = new_id(now);
        let mut claimed = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let rows = sqlx::query(sql)
                .bind(&token)
                .bind(now.saturating_add(lease_ms))
                .bind(now)
                .bind(i64::from(limit))
                .fetch_all(&mut *tx)
                .await?;
            tx.commit().await?;
            rows.iter().map(delivery).collect::<Result<Vec<_>>>()?
        });
        claimed.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(claimed
            .into_iter()
            .map(|delivery| ClaimedDelivery {
                delivery,
                claim_token: token.clone(),
            })
            .collect())
    }

    /// Claims one due pending delivery by id (an operator's "test this channel" sends
    /// its own delivery at once, not whatever else is due). `None` when it is not
    /// pending and due, e.g. a dispatcher claimed it first.
    pub async fn claim_delivery(
        &self,
        id: &str,
        now: Millis,
        lease_ms: Millis,
    ) -> Result<Option<ClaimedDelivery>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "UPDATE notification_deliveries
                SET claim_token = $2, attempts = attempts + 1, next_attempt_at = $3,
                    updated_at = $4
              WHERE id = $1 AND status = 'pending' AND next_attempt_at <= $4
              RETURNING {DELIVERY_COLUMNS}"
        ));
        let token = new_id(now);
        with_pool!(self, pool => {
            let row = sqlx::query(sql)
                .bind(id)
                .bind(&token)
                .bind(now.saturating_add(lease_ms))
                .bind(now)
                .fetch_optional(pool)
                .await?;
            row.map(|row| {
                Ok(ClaimedDelivery {
                    delivery: delivery(&row)?,
                    claim_token: token.clone(),
                })
            })
            .transpose()
        })
    }

    /// Records a successful attempt. `false` when the claim is no longer ours (the
    /// lease expired and another dispatcher took the row, or an operator retried it).
    pub async fn delivery_succeeded(
        &self,
        id: &str,
        claim_token: &str,
        now: Millis,
    ) -> Result<bool> {
        with_pool!(self, pool => {
            let done = sqlx::query(
                "UPDATE notification_deliveries
                    SET status = 'delivered', delivered_at = $3, updated_at = $3,
                        claim_token = NULL
                  WHERE id = $1 AND claim_token = $2 AND status = 'pending'",
            )
            .bind(id)
            .bind(claim_token)
            .bind(now)
            .execute(pool)
            .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    /// Deletes deliveries that are over (delivered, or failed for good) and were last
    /// touched before `before`; pending ones stay however old. Returns how many went.
    /// The outbox is also the delivery history the UI shows, so it is kept for a
    /// while and then purged rather than growing with every event forever.
    pub async fn purge_deliveries(&self, before: Millis) -> Result<u64> {
        with_pool!(self, pool => {
            let done = sqlx::query(
                "DELETE FROM notification_deliveries
                  WHERE status IN ('delivered', 'failed') AND updated_at < $1",
            )
            .bind(before)
            .execute(pool)
            .await?;
            Ok(done.rows_affected())
        })
    }

    /// Records a failed attempt: due again at `retry_at`, or failed for good when
    /// `None`. `false` when the claim is no longer ours.
    pub async fn delivery_failed(
        &self,
        id: &str,
        claim_token: &str,
        error: &str,
        retry_at: Option<Millis>,
        now: Millis,
    ) -> Result<bool> {
        let error: String = error.chars().take(1000).collect();
        with_pool!(self, pool => {
            let done = sqlx::query(
                "UPDATE notification_deliveries
                    SET status = CASE WHEN $4 = 1 THEN 'pending' ELSE 'failed' END,
                        next_attempt_at = COALESCE($5, next_attempt_at),
                        last_error = $3, updated_at = $6, claim_token = NULL
                  WHERE id = $1 AND claim_token = $2 AND status = 'pending'",
            )
            .bind(id)
            .bind(claim_token)
            .bind(&error)
            .bind(i64::from(retry_at.is_some()))
            .bind(retry_at)
            .bind(now)
            .execute(pool)
            .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    pub async fn get_delivery(&self, id: &str) -> Result<Delivery> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {DELIVERY_COLUMNS} FROM notification_deliveries WHERE id = $1"
        ));
        with_pool!(self, pool => {
            let row = sqlx::query(sql).bind(id).fetch_optional(pool).await?;
            delivery(&found("notification delivery", row)?)
        })
    }

    /// Deliveries matching `filter`, newest first; one page plus the total.
    pub async fn list_deliveries(
        &self,
        filter: &DeliveryFilter,
        page: Page,
    ) -> Result<Paged<Delivery>> {
        fn push_filter<DB: sqlx::Database>(qb: &mut QueryBuilder<DB>, filter: &DeliveryFilter)
        where
            for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        {
            if let Some(status) = filter.status {
                qb.push(" AND status = ")
                    .push_bind(status.as_str().to_owned());
            }
            if let Some(channel) = &filter.channel_id {
                qb.push(" AND channel_id = ").push_bind(channel.clone());
            }
            if let Some(event) = &filter.event_id {
                qb.push(" AND event_id = ").push_bind(event.clone());
            }
        }
        with_pool!(self, pool => {
            let mut count =
                QueryBuilder::new("SELECT COUNT(*) AS n FROM notification_deliveries WHERE 1 = 1");
            push_filter(&mut count, filter);
            let total = count.build().fetch_one(pool).await?.int("n")?;
            let mut list = QueryBuilder::new(format!(
                "SELECT {DELIVERY_COLUMNS} FROM notification_deliveries WHERE 1 = 1"
            ));
            push_filter(&mut list, filter);
            list.push(" ORDER BY created_at DESC, id DESC LIMIT ")
                .push_bind(i64::from(page.limit))
                .push(" OFFSET ")
                .push_bind(i64::try_from(page.offset).unwrap_or(i64::MAX));
            let rows = list.build().fetch_all(pool).await?;
            let items = rows.iter().map(delivery).collect::<Result<Vec<_>>>()?;
            Ok(Paged { items, total: total as u64 })
        })
    }

    /// How many deliveries failed for good and how many are waiting for another
    /// attempt after a failure; one aggregate query.
    pub async fn delivery_trouble(&self) -> Result<DeliveryTrouble> {
        with_pool!(self, pool => {
            let row = sqlx::query(
                "SELECT COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0) AS failed,
                        COALESCE(SUM(CASE WHEN status = 'pending' AND last_error IS NOT NULL
                                          THEN 1 ELSE 0 END), 0) AS retrying
                   FROM notification_deliveries",
            )
            .fetch_one(pool)
            .await?;
            Ok(DeliveryTrouble {
                failed: row.int("failed")?.max(0) as u64,
                retrying: row.int("retrying")?.max(0) as u64,
            })
        })
    }

    /// Makes a pending or failed delivery due now (one more attempt, even past the
    /// policy's maximum); [`Error::Conflict`] for a delivered one.
    pub async fn retry_delivery(&self, id: &str, now: Millis) -> Result<Delivery> {
        let current = self.get_delivery(id).await?;
        if current.status == DeliveryStatus::Delivered {
            return Err(Error::Conflict {
                entity: "delivered notification",
            });
        }
        with_pool!(self, pool => {
            let done = sqlx::query(
                "UPDATE notification_deliveries
                    SET status = 'pending', next_attempt_at = $2, updated_at = $2,
                        claim_token = NULL
                  WHERE id = $1 AND status <> 'delivered'",
            )
            .bind(id)
            .bind(now)
            .execute(pool)
            .await?;
            if done.rows_affected() == 0 {
                return Err(Error::Conflict {
                    entity: "delivered notification",
                });
            }
        });
        self.get_delivery(id).await
    }

    /// The one place change requests are written by the compliance engine: `items` are
    /// the project's overdue updates now. With items, the open request is updated in
    /// place (or one is opened); without, the open request (if any) is closed (`None`
    /// when there was none). [`Error::NotFound`] for an unknown project. Safe
    /// against a concurrent caller: the partial unique index admits one open request
    /// per project, the project's row is locked first so callers take turns, and a lost
    /// insert race would still turn into an update.
    pub async fn open_or_update_change_request(
        &self,
        project_id: &str,
        items: &[ChangeRequestItem],
        now: Millis,
    ) -> Result<Option<(ChangeRequest, ChangeRequestChange)>> {
        let items_json = to_json(&items);
        for _ in 0..2 {
            // An async block, so `?` ends this attempt (and the loop sees a lost race)
            // rather than the whole call.
            let outcome: Result<Option<(String, ChangeRequestChange)>> = with_pool!(self, pool => async {
                let mut tx = pool.begin_write().await?;
                // The project's row lock queues concurrent callers (SQLite's write lock
                // already does), so each reads the open request the previous one left.
                let project = sqlx::query("UPDATE projects SET name = name WHERE id = $1")
                    .bind(project_id)
                    .execute(&mut *tx)
                    .await?;
                affected("project", project.rows_affected())?;
                let open = sqlx::query(
                    "SELECT id, items FROM change_requests WHERE project_id = $1 AND status = 'open'",
                )
                .bind(project_id)
                .fetch_optional(&mut *tx)
                .await?;
                let result = match (open, items.is_empty()) {
                    (Some(row), true) => {
                        let id = row.text("id")?;
                        sqlx::query(
                            "UPDATE change_requests SET status = 'closed', closed_at = $2,
                                 updated_at = $2 WHERE id = $1",
                        )
                        .bind(&id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                        Ok(Some((id, ChangeRequestChange::Closed)))
                    }
                    (None, true) => Ok(None),
                    (Some(row), false) => {
                        let id = row.text("id")?;
                        let stored: Vec<ChangeRequestItem> =
                            from_json("change request items", &row.text("items")?)?;
                        if stored == items {
                            Ok(Some((id, ChangeRequestChange::Unchanged)))
                        } else {
                            sqlx::query(
                                "UPDATE change_requests SET items = $2, updated_at = $3 WHERE id = $1",
                            )
                            .bind(&id)
                            .bind(&items_json)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                            Ok(Some((id, ChangeRequestChange::Updated)))
                        }
                    }
                    (None, false) => {
                        let id = new_id(now);
                        sqlx::query(
                            "INSERT INTO change_requests (id, project_id, status, items,
                                 created_at, updated_at)
                             VALUES ($1, $2, 'open', $3, $4, $4)",
                        )
                        .bind(&id)
                        .bind(project_id)
                        .bind(&items_json)
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(Error::on_write("open change request"))?;
                        Ok(Some((id, ChangeRequestChange::Opened)))
                    }
                };
                if result.is_ok() {
                    tx.commit().await?;
                }
                result
            }.await);
            match outcome {
                Ok(None) => return Ok(None),
                Ok(Some((id, change))) => {
                    return Ok(Some((self.get_change_request(&id).await?, change)));
                }
                // Another server opened one between our read and insert: update it.
                Err(Error::Conflict { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(Error::Conflict {
            entity: "open change request",
        })
    }

    pub async fn get_change_request(&self, id: &str) -> Result<ChangeRequest> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {CHANGE_REQUEST_COLUMNS} FROM change_requests c
             JOIN projects p ON p.id = c.project_id WHERE c.id = $1"
        ));
        with_pool!(self, pool => {
            let row = sqlx::query(sql).bind(id).fetch_optional(pool).await?;
            change_request(&found("change request", row)?)
        })
    }

    /// Change requests matching `filter`, most recently updated first.
    pub async fn list_change_requests(
        &self,
        filter: &ChangeRequestFilter,
        page: Page,
    ) -> Result<Paged<ChangeRequest>> {
        fn push_filter<DB: sqlx::Database>(qb: &mut QueryBuilder<DB>, filter: &ChangeRequestFilter)
        where
            for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        {
            if let Some(project) = &filter.project_id {
                qb.push(" AND c.project_id = ").push_bind(project.clone());
            }
            if let Some(status) = filter.status {
                qb.push(" AND c.status = ")
                    .push_bind(status.as_str().to_owned());
            }
        }
        with_pool!(self, pool => {
            let mut count = QueryBuilder::new(
                "SELECT COUNT(*) AS n FROM change_requests c WHERE 1 = 1",
            );
            push_filter(&mut count, filter);
            let total = count.build().fetch_one(pool).await?.int("n")?;
            let mut list = QueryBuilder::new(format!(
                "SELECT {CHANGE_REQUEST_COLUMNS} FROM change_requests c
                 JOIN projects p ON p.id = c.project_id WHERE 1 = 1"
            ));
            push_filter(&mut list, filter);
            list.push(" ORDER BY c.updated_at DESC, c.id DESC LIMIT ")
                .push_bind(i64::from(page.limit))
                .push(" OFFSET ")
                .push_bind(i64::try_from(page.offset).unwrap_or(i64::MAX));
            let rows = list.build().fetch_all(pool).await?;
            let items = rows.iter().map(change_request).collect::<Result<Vec<_>>>()?;
            Ok(Paged { items, total: total as u64 })
        })
    }

    /// Closes a change request (done by hand or by the patch workflow). Closing a
    /// closed one changes nothing.
    pub async fn close_change_request(&self, id: &str, now: Millis) -> Result<ChangeRequest> {
        with_pool!(self, pool => {
            sqlx::query(
                "UPDATE change_requests SET status = 'closed', closed_at = $2, updated_at = $2
                  WHERE id = $1 AND status = 'open'",
            )
            .bind(id)
            .bind(now)
            .execute(pool)
            .await?;
        });
        self.get_change_request(id).await
    }

    /// Records the reference a ticketing system answered with.
    pub async fn set_change_request_external_ref(
        &self,
        id: &str,
        external_ref: &str,
        now: Millis,
    ) -> Result<ChangeRequest> {
        with_pool!(self, pool => {
            let done = sqlx::query(
                "UPDATE change_requests SET external_ref = $2, updated_at = $3 WHERE id = $1",
            )
            .bind(id)
            .bind(external_ref)
            .bind(now)
            .execute(pool)
            .await?;
            affected("change request", done.rows_affected())?;
        });
        self.get_change_request(id).await
    }
}
