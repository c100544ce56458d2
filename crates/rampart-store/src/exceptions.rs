//! Risk exceptions: requests, decisions, and which exception covers each finding.
//!
//! The rules live in `rampart_core::exceptions`; this module keeps the rows and runs the
//! decisions atomically: a decision locks the row, asks `can_approve` / `can_deny` /
//! `can_revoke` on what it read, and writes in the same transaction, so two approvers
//! racing cannot both decide and a requester can never approve their own. Expiry is a
//! comparison with the caller's `now` in every query, never a stored flag.

use std::collections::BTreeMap;

use rampart_core::exceptions::{
    Exception, ExceptionScope, ExceptionStatus, FindingTarget, Refusal, can_approve, can_deny,
    can_revoke, covering,
};
use sqlx::QueryBuilder;

use crate::findings::{COUNT_COLUMNS, counts, push_finding_filter};
use crate::{
    BeginWrite as _, Error, FindingFilter, HostFinding, Millis, Page, Paged, Result, RowExt,
    SeverityCounts, Store, found, new_id, with_pool,
};

/// An exception with the display names of the people involved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExceptionRecord {
    pub exception: Exception,
    pub requested_by_name: String,
    pub decided_by_name: Option<String>,
}

/// Who acts: a user id (what the four-eyes rule compares) and a name (what people read).
#[derive(Clone, Copy, Debug)]
pub struct Actor<'a> {
    pub id: &'a str,
    pub name: &'a str,
}

/// What [`Store::request_exception`] needs; validate with
/// `rampart_core::exceptions::validate_request` first.
#[derive(Clone, Debug)]
pub struct NewException<'a> {
    pub advisory: &'a str,
    pub scope: &'a ExceptionScope,
    pub reason: &'a str,
    pub ticket: Option<&'a str>,
    pub expires_at: Millis,
}

/// A decision on an exception.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExceptionDecision {
    Approve,
    Deny,
    Revoke,
}

/// Which exceptions [`Store::list_exceptions`] returns.
#[derive(Clone, Debug, Default)]
pub struct ExceptionFilter {
    pub status: Option<ExceptionStatus>,
    /// Only exceptions in force at this instant (approved, unexpired).
    pub active_at: Option<Millis>,
    pub advisory: Option<String>,
    /// Exceptions scoped to exactly this host.
    pub host_id: Option<String>,
    /// Exceptions scoped to exactly this project.
    pub project_id: Option<String>,
}

/// A finding with the exception that accepts it at `now`, if any.
#[derive(Clone, Debug, PartialEq)]
pub struct CoveredFinding {
    pub finding: HostFinding,
    pub exception: Option<Exception>,
}

/// Finding counts with exceptions applied at `now`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FindingCounts {
    /// Findings an exception in force accepts.
    pub excepted: u64,
    /// The others, per severity level: what compliance and dashboards count.
    pub open: SeverityCounts,
}

const EXCEPTION_COLUMNS: &str = "id, advisory_id, scope, host_id, project_id, reason, ticket, \
     expires_at, status, requested_by, requested_by_name, requested_at, decided_by, \
     decided_by_name, decided_at";

/// SQL: an exception in force at bind `now` covers finding `f` of host `f.host_id`.
/// Mirrors `rampart_core::exceptions::applies` (the conformance suite checks they agree):
/// the advisory id or one of the finding's aliases (`aliases` is a JSON array of
/// strings; ids are restricted to characters that need no escaping but `_`).
fn push_active_exception_exists<DB: sqlx::Database>(qb: &mut QueryBuilder<DB>, now: Millis)
where
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    qb.push(
        "EXISTS (SELECT 1 FROM risk_exceptions e WHERE e.status = 'approved' AND e.expires_at > ",
    )
    .push_bind(now)
    .push(
        " AND (e.advisory_id = f.advisory_id \
           OR f.aliases LIKE '%\"' || REPLACE(e.advisory_id, '_', '\\_') || '\"%' ESCAPE '\\') \
         AND (e.scope = 'estate' \
           OR (e.scope = 'host' AND e.host_id = f.host_id) \
           OR (e.scope = 'project' AND NOT EXISTS (SELECT 1 FROM project_selectors s \
               WHERE s.project_id = e.project_id AND NOT EXISTS (SELECT 1 FROM host_labels l \
               WHERE l.host_id = f.host_id AND l.key = s.key AND l.value = s.value)))))",
    );
}

fn scope_columns(scope: &ExceptionScope) -> (&'static str, Option<&str>, Option<&str>) {
    match scope {
        ExceptionScope::Host { host_id } => ("host", Some(host_id.as_str()), None),
        ExceptionScope::Project { project_id } => ("project", None, Some(project_id.as_str())),
        ExceptionScope::Estate => ("estate", None, None),
    }
}

fn corrupt(what: &'static str, detail: String) -> Error {
    Error::Corrupt {
        what,
        source: serde::de::Error::custom(detail),
    }
}

fn record(row: &impl RowExt) -> Result<ExceptionRecord> {
    let scope = match row.text("scope")?.as_str() {
        "host" => ExceptionScope::Host {
            host_id: row
                .opt_text("host_id")?
                .ok_or_else(|| corrupt("exception scope", "host scope without host".into()))?,
        },
        "project" => ExceptionScope::Project {
            project_id: row.opt_text("project_id")?.ok_or_else(|| {
                corrupt("exception scope", "project scope without project".into())
            })?,
        },
        "estate" => ExceptionScope::Estate,
        other => {
            return Err(corrupt(
                "exception scope",
                format!("unknown scope {other:?}"),
            ));
        }
    };
    let status = row
        .text("status")?
        .parse::<ExceptionStatus>()
        .map_err(|e| corrupt("exception status", e))?;
    Ok(ExceptionRecord {
        exception: Exception {
            id: row.text("id")?,
            advisory: row.text("advisory_id")?,
            scope,
            reason: row.text("reason")?,
            ticket: row.opt_text("ticket")?,
            expires_at: row.int("expires_at")?,
            status,
            requested_by: row.text("requested_by")?,
            requested_at: row.int("requested_at")?,
            decided_by: row.opt_text("decided_by")?,
            decided_at: row.opt_int("decided_at")?,
        },
        requested_by_name: row.text("requested_by_name")?,
        decided_by_name: row.opt_text("decided_by_name")?,
    })
}

fn push_exception_filter<DB: sqlx::Database>(qb: &mut QueryBuilder<DB>, filter: &ExceptionFilter)
where
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    if let Some(status) = filter.status {
        qb.push(" AND status = ")
            .push_bind(status.as_str().to_owned());
    }
    if let Some(now) = filter.active_at {
        qb.push(" AND status = 'approved' AND expires_at > ")
            .push_bind(now);
    }
    if let Some(advisory) = &filter.advisory {
        qb.push(" AND advisory_id = ").push_bind(advisory.clone());
    }
    if let Some(host) = &filter.host_id {
        qb.push(" AND host_id = ").push_bind(host.clone());
    }
    if let Some(project) = &filter.project_id {
        qb.push(" AND project_id = ").push_bind(project.clone());
    }
}

impl Store {
    /// Records a request by `by` at `now`. A host or project scope naming a row that
    /// does not exist is [`Error::NotFound`].
    pub async fn request_exception(
        &self,
        new: NewException<'_>,
        by: Actor<'_>,
        now: Millis,
    ) -> Result<ExceptionRecord> {
        let id = new_id(now);
        let (scope, host_id, project_id) = scope_columns(new.scope);
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO risk_exceptions (id, advisory_id, scope, host_id, project_id, reason,
                     ticket, expires_at, status, requested_by, requested_by_name, requested_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'requested', $9, $10, $11)",
            )
            .bind(&id)
            .bind(new.advisory)
            .bind(scope)
            .bind(host_id)
            .bind(project_id)
            .bind(new.reason)
            .bind(new.ticket)
            .bind(new.expires_at)
            .bind(by.id)
            .bind(by.name)
            .bind(now)
            .execute(pool)
            .await
            .map_err(Error::on_write("exception"))?;
        });
        self.get_exception(&id).await
    }

    /// One exception.
    pub async fn get_exception(&self, id: &str) -> Result<ExceptionRecord> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {EXCEPTION_COLUMNS} FROM risk_exceptions WHERE id = $1"
        ));
        with_pool!(self, pool => {
            let row = sqlx::query(sql).bind(id).fetch_optional(pool).await?;
            record(&found("exception", row)?)
        })
    }

    /// Exceptions matching `filter`, newest request first.
    pub async fn list_exceptions(
        &self,
        filter: &ExceptionFilter,
        page: Page,
    ) -> Result<Paged<ExceptionRecord>> {
        with_pool!(self, pool => {
            let mut count = QueryBuilder::new("SELECT COUNT(*) AS n FROM risk_exceptions WHERE 1 = 1");
            push_exception_filter(&mut count, filter);
            let total = count.build().fetch_one(pool).await?.int("n")?;
            let mut list = QueryBuilder::new(format!(
                "SELECT {EXCEPTION_COLUMNS} FROM risk_exceptions WHERE 1 = 1"
            ));
            push_exception_filter(&mut list, filter);
            list.push(" ORDER BY requested_at DESC, id DESC LIMIT ")
                .push_bind(i64::from(page.limit))
                .push(" OFFSET ")
                .push_bind(i64::try_from(page.offset).unwrap_or(i64::MAX));
            let rows = list.build().fetch_all(pool).await?;
            let items = rows.iter().map(record).collect::<Result<Vec<_>>>()?;
            Ok(Paged { items, total: total as u64 })
        })
    }

    /// Every exception in force at `now` (approved, unexpired): what compliance
    /// evaluation passes to `rampart_core::compliance::evaluate`.
    pub async fn active_exceptions(&self, now: Millis) -> Result<Vec<Exception>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {EXCEPTION_COLUMNS} FROM risk_exceptions
             WHERE status = 'approved' AND expires_at > $1 ORDER BY id"
        ));
        with_pool!(self, pool => {
            let rows = sqlx::query(sql).bind(now).fetch_all(pool).await?;
            rows.iter().map(|r| Ok(record(r)?.exception)).collect()
        })
    }

    /// Approves, denies or revokes, atomically, by `by` at `now`. The outer `Result` is
    /// the database; the inner one the rule's refusal (self-approval, not pending,
    /// expired, closed), with nothing written.
    pub async fn decide_exception(
        &self,
        id: &str,
        decision: ExceptionDecision,
        by: Actor<'_>,
        now: Millis,
    ) -> Result<std::result::Result<ExceptionRecord, Refusal>> {
        let select = sqlx::AssertSqlSafe(format!(
            "SELECT {EXCEPTION_COLUMNS} FROM risk_exceptions WHERE id = $1"
        ));
        let outcome = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            // Writing first takes the row lock, so the check below sees the latest row.
            let locked = sqlx::query("UPDATE risk_exceptions SET id = id WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            crate::users::affected("exception", locked.rows_affected())?;
            let row = sqlx::query(select).bind(id).fetch_one(&mut *tx).await?;
            let current = record(&row)?.exception;
            let (check, status) = match decision {
                ExceptionDecision::Approve => {
                    (can_approve(&current, by.id, now), ExceptionStatus::Approved)
                }
                ExceptionDecision::Deny => (can_deny(&current), ExceptionStatus::Denied),
                ExceptionDecision::Revoke => (can_revoke(&current), ExceptionStatus::Revoked),
            };
            if let Err(refusal) = check {
                tx.rollback().await?;
                Err(refusal)
            } else {
                sqlx::query(
                    "UPDATE risk_exceptions SET status = $2, decided_by = $3,
                         decided_by_name = $4, decided_at = $5
                     WHERE id = $1",
                )
                .bind(id)
                .bind(status.as_str())
                .bind(by.id)
                .bind(by.name)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }
        });
        match outcome {
            Err(refusal) => Ok(Err(refusal)),
            Ok(()) => Ok(Ok(self.get_exception(id).await?)),
        }
    }

    /// Approved exceptions that expire within `within` ms after `now` and whose expiry
    /// was not announced yet ([`Store::mark_exception_expiry_warned`]).
    pub async fn exceptions_expiring(
        &self,
        now: Millis,
        within: Millis,
    ) -> Result<Vec<ExceptionRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {EXCEPTION_COLUMNS} FROM risk_exceptions
             WHERE status = 'approved' AND expires_at > $1 AND expires_at <= $2
               AND expiry_warned_at IS NULL
             ORDER BY expires_at, id"
        ));
        with_pool!(self, pool => {
            let rows = sqlx::query(sql)
                .bind(now)
                .bind(now.saturating_add(within))
                .fetch_all(pool)
                .await?;
            rows.iter().map(record).collect()
        })
    }

    /// Records that an exception's coming expiry was announced; `false` when someone
    /// already did (so one notification goes out per exception, even with replicas).
    pub async fn mark_exception_expiry_warned(&self, id: &str, now: Millis) -> Result<bool> {
        with_pool!(self, pool => {
            let done = sqlx::query(
                "UPDATE risk_exceptions SET expiry_warned_at = $2
                 WHERE id = $1 AND expiry_warned_at IS NULL",
            )
            .bind(id)
            .bind(now)
            .execute(pool)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// The projects whose selector selects each of `host_ids` (hosts in no project map
    /// to an empty list).
    pub async fn host_project_ids(
        &self,
        host_ids: &[String],
    ) -> Result<BTreeMap<String, Vec<String>>> {
        let mut out: BTreeMap<String, Vec<String>> =
            host_ids.iter().map(|h| (h.clone(), Vec::new())).collect();
        for chunk in host_ids.chunks(1000) {
            with_pool!(self, pool => {
                let mut qb = QueryBuilder::new(
                    "SELECT h.id AS host_id, p.id AS project_id FROM hosts h, projects p \
                     WHERE NOT EXISTS (SELECT 1 FROM project_selectors s WHERE s.project_id = p.id \
                     AND NOT EXISTS (SELECT 1 FROM host_labels l WHERE l.host_id = h.id \
                     AND l.key = s.key AND l.value = s.value)) AND h.id IN (",
                );
                let mut ids = qb.separated(", ");
                for id in chunk {
                    ids.push_bind(id.clone());
                }
                qb.push(") ORDER BY p.id");
                for row in qb.build().fetch_all(pool).await? {
                    out.entry(row.text("host_id")?)
                        .or_default()
                        .push(row.text("project_id")?);
                }
            });
        }
        Ok(out)
    }

    /// [`Store::list_findings`], each finding with the exception that accepts it at
    /// `now` (`rampart_core::exceptions::covering`: the most specific in force).
    pub async fn list_findings_covered(
        &self,
        filter: &FindingFilter,
        page: Page,
        now: Millis,
    ) -> Result<Paged<CoveredFinding>> {
        let found = self.list_findings(filter, page).await?;
        let items = self.cover(found.items, now).await?;
        Ok(Paged {
            items,
            total: found.total,
        })
    }

    /// Pairs findings with the exception in force at `now` that accepts each.
    pub async fn cover(
        &self,
        findings: Vec<HostFinding>,
        now: Millis,
    ) -> Result<Vec<CoveredFinding>> {
        let exceptions = self.active_exceptions(now).await?;
        if exceptions.is_empty() {
            return Ok(findings
                .into_iter()
                .map(|finding| CoveredFinding {
                    finding,
                    exception: None,
                })
                .collect());
        }
        let mut host_ids: Vec<String> = findings.iter().map(|f| f.host_id.clone()).collect();
        host_ids.sort_unstable();
        host_ids.dedup();
        let projects = self.host_project_ids(&host_ids).await?;
        Ok(findings
            .into_iter()
            .map(|finding| {
                let target = FindingTarget {
                    host_id: &finding.host_id,
                    project_ids: projects.get(&finding.host_id).map_or(&[], Vec::as_slice),
                    advisory: &finding.finding.advisory,
                    aliases: &finding.finding.aliases,
                };
                let exception = covering(&exceptions, &target, now).cloned();
                CoveredFinding { finding, exception }
            })
            .collect())
    }

    /// Counts of the findings matching `filter`: those accepted by an exception in force
    /// at `now`, and the rest per severity level.
    pub async fn finding_counts(
        &self,
        filter: &FindingFilter,
        now: Millis,
    ) -> Result<FindingCounts> {
        with_pool!(self, pool => {
            let mut qb = QueryBuilder::new("SELECT COUNT(*) AS n FROM findings f JOIN hosts h ON h.id = f.host_id WHERE ");
            push_active_exception_exists(&mut qb, now);
            push_finding_filter(&mut qb, filter);
            let excepted = qb.build().fetch_one(pool).await?.int("n")? as u64;
            let mut qb = QueryBuilder::new(format!(
                "SELECT {COUNT_COLUMNS} FROM findings f JOIN hosts h ON h.id = f.host_id WHERE NOT "
            ));
            push_active_exception_exists(&mut qb, now);
            push_finding_filter(&mut qb, filter);
            let open = counts(&qb.build().fetch_one(pool).await?)?;
            Ok(FindingCounts { excepted, open })
        })
    }
}
