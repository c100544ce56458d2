//! Hosts, their labels and the agents that report for them. A host is created when its
//! agent enrols; labels (provider, account, region, environment, anything) live in the
//! normalised `host_labels` table so selectors and filters are plain joins.

use std::collections::BTreeMap;

use sqlx::QueryBuilder;

use crate::exposure::{ExposureDelta, apply_exposure};
use crate::users::affected;
use crate::{
    BeginWrite as _, Error, Millis, Page, Paged, Result, RowExt, Store, found, like_contains,
    new_id, to_json, with_pool,
};

/// Label key → value. One value per key.
pub type Labels = BTreeMap<String, String>;

/// A managed server as the estate views list it. The OS facts are copied from its
/// latest inventory; before the first inventory they are empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    pub id: String,
    pub hostname: String,
    pub machine_id: Option<String>,
    /// os-release `ID` and `VERSION_ID`.
    pub os_id: String,
    pub os_version: String,
    pub os_pretty_name: Option<String>,
    /// OSV ecosystem the host's advisories are published under (`Debian:12`).
    pub ecosystem: Option<String>,
    pub labels: Labels,
    /// Enrolment time.
    pub first_seen: Millis,
    /// Last check-in (server clock).
    pub last_seen: Millis,
    /// Last time an inventory arrived, changed or not.
    pub last_inventory_at: Option<Millis>,
    /// Last time the installed package set changed.
    pub last_updated_at: Option<Millis>,
    /// `HostState::content_hash` of the stored inventory.
    pub state_hash: Option<String>,
    /// `package_set_hash` of the stored package list.
    pub package_set_hash: Option<String>,
}

/// The host half of an enrolment.
#[derive(Clone, Debug)]
pub struct NewHost<'a> {
    pub hostname: &'a str,
    pub machine_id: Option<&'a str>,
    pub labels: &'a Labels,
}

/// The agent half of an enrolment: the certificate the server just signed.
#[derive(Clone, Debug)]
pub struct NewAgent<'a> {
    /// Chosen by the caller before signing (it is the certificate's subject); use
    /// [`crate::new_id`].
    pub id: &'a str,
    pub cert_serial: &'a str,
    /// SHA-256 of the DER certificate, lowercase hex: what the mTLS layer looks up.
    pub cert_fingerprint: &'a str,
}

/// An agent identity (one client certificate) bound to a host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Agent {
    pub id: String,
    pub host_id: String,
    pub cert_serial: String,
    pub cert_fingerprint: String,
    pub enrolled_at: Millis,
    pub revoked_at: Option<Millis>,
}

/// What [`Store::enrol_host`] created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnrolledHost {
    pub host: Host,
    pub agent: Agent,
    /// The machine id was already known: the new agent joined the existing host.
    pub reenrolled: bool,
    /// The host's earlier agents this enrolment revoked.
    pub replaced_agents: Vec<String>,
}

/// Which hosts [`Store::list_hosts`] returns; every field set narrows the result.
#[derive(Clone, Debug, Default)]
pub struct HostFilter {
    /// Hosts matching this project's label selector.
    pub project_id: Option<String>,
    /// Hosts carrying every one of these labels.
    pub labels: Labels,
    pub os_id: Option<String>,
    pub os_version: Option<String>,
    /// Case-insensitive substring of the hostname or of a label key or value (ASCII
    /// case folding on SQLite, full Unicode on PostgreSQL).
    pub text: Option<String>,
    /// `Some(true)`: only hosts with at least one critical finding; `Some(false)`: only
    /// hosts without.
    pub has_critical: Option<bool>,
    /// Only hosts with an open finding for this advisory id or alias (the affected
    /// hosts of an advisory).
    pub advisory: Option<String>,
    /// Only hosts whose last compliance evaluation says so (never-evaluated hosts match
    /// none of them).
    pub compliance: Option<ComplianceMatch>,
}

/// A hosts-list filter on the last compliance evaluation (`host_compliance`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ComplianceMatch {
    Compliant,
    /// Every non-compliant host, stale ones included.
    NonCompliant,
    /// Hosts whose agent stopped checking in.
    Stale,
}

/// The column [`Store::list_hosts_ordered`] sorts by; ties are broken by hostname, then
/// id, so pages never overlap.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HostSort {
    #[default]
    Hostname,
    /// os-release `ID`, then `VERSION_ID`.
    Os,
    /// Last check-in.
    LastSeen,
    /// Last change of the installed package set; hosts without an inventory count as
    /// the oldest.
    LastUpdated,
    /// Open critical findings, then high ones.
    Critical,
}

/// A sort column and direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HostOrder {
    pub sort: HostSort,
    pub descending: bool,
}

impl HostOrder {
    /// The `ORDER BY` clause (without the keyword). Built from fixed fragments only:
    /// nothing the caller typed reaches the SQL.
    fn clause(self) -> String {
        let dir = if self.descending { "DESC" } else { "ASC" };
        let key = match self.sort {
            HostSort::Hostname => format!("h.hostname {dir}"),
            HostSort::Os => format!("h.os_id {dir}, h.os_version {dir}"),
            HostSort::LastSeen => format!("h.last_seen {dir}"),
            HostSort::LastUpdated => format!("COALESCE(h.last_updated_at, -1) {dir}"),
            HostSort::Critical => format!(
                "(SELECT COUNT(*) FROM findings f WHERE f.host_id = h.id AND f.severity_rank = 4) {dir}, \
                 (SELECT COUNT(*) FROM findings f WHERE f.host_id = h.id AND f.severity_rank = 3) {dir}"
            ),
        };
        format!("{key}, h.hostname, h.id")
    }
}

pub(crate) const HOST_COLUMNS: &str = "h.id, h.hostname, h.machine_id, h.os_id, h.os_version, \
     h.os_pretty_name, h.ecosystem, h.first_seen, h.last_seen, h.last_inventory_at, \
     h.last_updated_at, h.state_hash, h.package_set_hash";

const AGENT_COLUMNS: &str = "id, host_id, cert_serial, cert_fingerprint, enrolled_at, revoked_at";

fn host(row: &impl RowExt) -> Result<Host> {
    Ok(Host {
        id: row.text("id")?,
        hostname: row.text("hostname")?,
        machine_id: row.opt_text("machine_id")?,
        os_id: row.text("os_id")?,
        os_version: row.text("os_version")?,
        os_pretty_name: row.opt_text("os_pretty_name")?,
        ecosystem: row.opt_text("ecosystem")?,
        labels: Labels::new(),
        first_seen: row.int("first_seen")?,
        last_seen: row.int("last_seen")?,
        last_inventory_at: row.opt_int("last_inventory_at")?,
        last_updated_at: row.opt_int("last_updated_at")?,
        state_hash: row.opt_text("state_hash")?,
        package_set_hash: row.opt_text("package_set_hash")?,
    })
}

fn agent(row: &impl RowExt) -> Result<Agent> {
    Ok(Agent {
        id: row.text("id")?,
        host_id: row.text("host_id")?,
        cert_serial: row.text("cert_serial")?,
        cert_fingerprint: row.text("cert_fingerprint")?,
        enrolled_at: row.int("enrolled_at")?,
        revoked_at: row.opt_int("revoked_at")?,
    })
}

/// Appends ` AND …` conditions for `filter` to a query over `hosts h`.
fn push_host_filter<DB: sqlx::Database>(qb: &mut QueryBuilder<DB>, filter: &HostFilter)
where
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    if let Some(project) = &filter.project_id {
        qb.push(" AND EXISTS (SELECT 1 FROM projects p WHERE p.id = ")
            .push_bind(project.clone())
            .push(
                " AND NOT EXISTS (SELECT 1 FROM project_selectors s WHERE s.project_id = p.id \
                 AND NOT EXISTS (SELECT 1 FROM host_labels l WHERE l.host_id = h.id \
                 AND l.key = s.key AND l.value = s.value)))",
            );
    }
    for (key, value) in &filter.labels {
        qb.push(" AND EXISTS (SELECT 1 FROM host_labels l WHERE l.host_id = h.id AND l.key = ")
            .push_bind(key.clone())
            .push(" AND l.value = ")
            .push_bind(value.clone())
            .push(")");
    }
    if let Some(os_id) = &filter.os_id {
        qb.push(" AND h.os_id = ").push_bind(os_id.clone());
    }
    if let Some(os_version) = &filter.os_version {
        qb.push(" AND h.os_version = ")
            .push_bind(os_version.clone());
    }
    if let Some(text) = &filter.text {
        let pattern = like_contains(&text.to_lowercase());
        qb.push(" AND (LOWER(h.hostname) LIKE ")
            .push_bind(pattern.clone())
            .push(" ESCAPE '\\' OR EXISTS (SELECT 1 FROM host_labels l WHERE l.host_id = h.id AND (LOWER(l.key) LIKE ")
            .push_bind(pattern.clone())
            .push(" ESCAPE '\\' OR LOWER(l.value) LIKE ")
            .push_bind(pattern)
            .push(" ESCAPE '\\')))");
    }
    match filter.has_critical {
        Some(true) => {
            qb.push(" AND EXISTS (SELECT 1 FROM findings f WHERE f.host_id = h.id AND f.severity_rank = 4)");
        }
        Some(false) => {
            qb.push(" AND NOT EXISTS (SELECT 1 FROM findings f WHERE f.host_id = h.id AND f.severity_rank = 4)");
        }
        None => {}
    }
    if let Some(compliance) = filter.compliance {
        qb.push(match compliance {
            ComplianceMatch::Compliant => {
                " AND EXISTS (SELECT 1 FROM host_compliance c WHERE c.host_id = h.id AND c.state = 'compliant')"
            }
            ComplianceMatch::NonCompliant => {
                " AND EXISTS (SELECT 1 FROM host_compliance c WHERE c.host_id = h.id AND c.state = 'non_compliant')"
            }
            ComplianceMatch::Stale => {
                " AND EXISTS (SELECT 1 FROM host_compliance c WHERE c.host_id = h.id AND c.stale = 1)"
            }
        });
    }
    if let Some(advisory) = &filter.advisory {
        qb.push(
            " AND EXISTS (SELECT 1 FROM findings f WHERE f.host_id = h.id AND (f.advisory_id = ",
        )
        .push_bind(advisory.clone())
        .push(" OR f.aliases LIKE ")
        .push_bind(like_contains(&to_json(advisory)))
        .push(" ESCAPE '\\'))");
    }
}

impl Store {
    /// Creates a host with its labels and its first agent, in one transaction: an
    /// enrolment either happens completely or not at all. The enrolment token is
    /// consumed separately, before the certificate is signed
    /// ([`Store::consume_enrolment_token`]).
    ///
    /// A machine is one host: when `machine_id` names a host already known (the machine
    /// was re-installed, or its agent enrolled again with `--force`), the new agent joins
    /// that host instead, its earlier agents are revoked, its host name is updated and
    /// the token's labels are applied over its own.
    pub async fn enrol_host(
        &self,
        new_host: NewHost<'_>,
        new_agent: NewAgent<'_>,
        now: Millis,
    ) -> Result<EnrolledHost> {
        if let Some(machine_id) = new_host.machine_id
            && let Some(enrolled) = self
                .reenrol_host(machine_id, &new_host, &new_agent, now)
                .await?
        {
            return Ok(enrolled);
        }
        let host = Host {
            id: new_id(now),
            hostname: new_host.hostname.to_owned(),
            machine_id: new_host.machine_id.map(str::to_owned),
            os_id: String::new(),
            os_version: String::new(),
            os_pretty_name: None,
            ecosystem: None,
            labels: new_host.labels.clone(),
            first_seen: now,
            last_seen: now,
            last_inventory_at: None,
            last_updated_at: None,
            state_hash: None,
            package_set_hash: None,
        };
        let agent = Agent {
            id: new_agent.id.to_owned(),
            host_id: host.id.clone(),
            cert_serial: new_agent.cert_serial.to_owned(),
            cert_fingerprint: new_agent.cert_fingerprint.to_owned(),
            enrolled_at: now,
            revoked_at: None,
        };
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO hosts (id, hostname, machine_id, first_seen, last_seen)
                 VALUES ($1, $2, $3, $4, $4)",
            )
            .bind(&host.id)
            .bind(&host.hostname)
            .bind(&host.machine_id)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(Error::on_write("host"))?;
            for (key, value) in &host.labels {
                sqlx::query("INSERT INTO host_labels (host_id, key, value) VALUES ($1, $2, $3)")
                    .bind(&host.id)
                    .bind(key)
                    .bind(value)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(
                "INSERT INTO agents (id, host_id, cert_serial, cert_fingerprint, enrolled_at)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&agent.id)
            .bind(&agent.host_id)
            .bind(&agent.cert_serial)
            .bind(&agent.cert_fingerprint)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(Error::on_write("agent"))?;
            tx.commit().await?;
        });
        Ok(EnrolledHost {
            host,
            agent,
            reenrolled: false,
            replaced_agents: Vec::new(),
        })
    }

    /// [`Store::enrol_host`] for a machine id already known; `None` when it is not.
    async fn reenrol_host(
        &self,
        machine_id: &str,
        new_host: &NewHost<'_>,
        new_agent: &NewAgent<'_>,
        now: Millis,
    ) -> Result<Option<EnrolledHost>> {
        let host_id = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let existing = sqlx::query(
                "SELECT id FROM hosts WHERE machine_id = $1 ORDER BY first_seen, id LIMIT 1",
            )
            .bind(machine_id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = existing else {
                return Ok(None);
            };
            let host_id = row.text("id")?;
            sqlx::query("UPDATE hosts SET hostname = $2 WHERE id = $1")
                .bind(&host_id)
                .bind(new_host.hostname)
                .execute(&mut *tx)
                .await?;
            for (key, value) in new_host.labels {
                sqlx::query(
                    "INSERT INTO host_labels (host_id, key, value) VALUES ($1, $2, $3)
                     ON CONFLICT (host_id, key) DO UPDATE SET value = excluded.value",
                )
                .bind(&host_id)
                .bind(key)
                .bind(value)
                .execute(&mut *tx)
                .await?;
            }
            let replaced = sqlx::query(
                "UPDATE agents SET revoked_at = $2 WHERE host_id = $1 AND revoked_at IS NULL
                 RETURNING id",
            )
            .bind(&host_id)
            .bind(now)
            .fetch_all(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO agents (id, host_id, cert_serial, cert_fingerprint, enrolled_at)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(new_agent.id)
            .bind(&host_id)
            .bind(new_agent.cert_serial)
            .bind(new_agent.cert_fingerprint)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(Error::on_write("agent"))?;
            tx.commit().await?;
            let replaced = replaced
                .iter()
                .map(|r| r.text("id"))
                .collect::<Result<Vec<_>>>()?;
            (host_id, replaced)
        });
        let (host_id, replaced_agents) = host_id;
        let host = self.get_host(&host_id).await?;
        let agent = Agent {
            id: new_agent.id.to_owned(),
            host_id,
            cert_serial: new_agent.cert_serial.to_owned(),
            cert_fingerprint: new_agent.cert_fingerprint.to_owned(),
            enrolled_at: now,
            revoked_at: None,
        };
        Ok(Some(EnrolledHost {
            host,
            agent,
            reenrolled: true,
            replaced_agents,
        }))
    }

    /// Replaces a host's labels.
    pub async fn set_host_labels(&self, host_id: &str, labels: &Labels) -> Result<()> {
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query("UPDATE hosts SET hostname = hostname WHERE id = $1")
                .bind(host_id)
                .execute(&mut *tx)
                .await?;
            affected("host", done.rows_affected())?;
            sqlx::query("DELETE FROM host_labels WHERE host_id = $1")
                .bind(host_id)
                .execute(&mut *tx)
                .await?;
            for (key, value) in labels {
                sqlx::query("INSERT INTO host_labels (host_id, key, value) VALUES ($1, $2, $3)")
                    .bind(host_id)
                    .bind(key)
                    .bind(value)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Records a check-in at `now` (server clock). `last_seen` never moves backwards; a
    /// stale compliance snapshot becomes due.
    pub async fn record_checkin(&self, host_id: &str, now: Millis) -> Result<()> {
        with_pool!(self, pool => {
            // One statement on every check-in; the second only for a host that was
            // judged stale (rare), with no transaction: should it be lost, the host's
            // next check-in marks the snapshot.
            let row = sqlx::query(
                "UPDATE hosts SET last_seen = CASE WHEN last_seen < $2 THEN $2 ELSE last_seen END
                 WHERE id = $1
                 RETURNING (SELECT c.stale FROM host_compliance c WHERE c.host_id = hosts.id)
                     AS stale",
            )
            .bind(host_id)
            .bind(now)
            .fetch_optional(pool)
            .await?;
            if found("host", row)?.opt_int("stale")? == Some(1) {
                sqlx::query(crate::compliance::STALE_HOST_SEEN)
                    .bind(host_id)
                    .bind(now)
                    .execute(pool)
                    .await?;
            }
            Ok(())
        })
    }

    /// One host with its labels.
    pub async fn get_host(&self, host_id: &str) -> Result<Host> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {HOST_COLUMNS} FROM hosts h WHERE h.id = $1"
        ));
        with_pool!(self, pool => {
            let row = sqlx::query(sql).bind(host_id).fetch_optional(pool).await?;
            let mut host = host(&found("host", row)?)?;
            let labels = sqlx::query("SELECT key, value FROM host_labels WHERE host_id = $1")
                .bind(host_id)
                .fetch_all(pool)
                .await?;
            for row in &labels {
                host.labels.insert(row.text("key")?, row.text("value")?);
            }
            Ok(host)
        })
    }

    /// Hosts matching `filter`, ordered by hostname, one page of them plus the total.
    pub async fn list_hosts(&self, filter: &HostFilter, page: Page) -> Result<Paged<Host>> {
        self.list_hosts_ordered(filter, HostOrder::default(), page)
            .await
    }

    /// Hosts matching `filter` in `order`, one page of them plus the total.
    pub async fn list_hosts_ordered(
        &self,
        filter: &HostFilter,
        order: HostOrder,
        page: Page,
    ) -> Result<Paged<Host>> {
        let order_by = order.clause();
        with_pool!(self, pool => {
            let mut count = QueryBuilder::new("SELECT COUNT(*) AS n FROM hosts h WHERE 1 = 1");
            push_host_filter(&mut count, filter);
            let total = count.build().fetch_one(pool).await?.int("n")?;

            let mut list = QueryBuilder::new(format!("SELECT {HOST_COLUMNS} FROM hosts h WHERE 1 = 1"));
            push_host_filter(&mut list, filter);
            list.push(" ORDER BY ")
                .push(&order_by)
                .push(" LIMIT ")
                .push_bind(i64::from(page.limit))
                .push(" OFFSET ")
                .push_bind(i64::try_from(page.offset).unwrap_or(i64::MAX));
            let rows = list.build().fetch_all(pool).await?;
            let mut hosts = rows.iter().map(host).collect::<Result<Vec<_>>>()?;

            // Labels of the page's hosts, in chunks that stay under the bind limits
            // however large the page.
            let mut by_host: BTreeMap<String, Labels> = BTreeMap::new();
            for chunk in hosts.chunks(1000) {
                let mut labels =
                    QueryBuilder::new("SELECT host_id, key, value FROM host_labels WHERE host_id IN (");
                let mut ids = labels.separated(", ");
                for h in chunk {
                    ids.push_bind(h.id.clone());
                }
                labels.push(")");
                for row in labels.build().fetch_all(pool).await? {
                    by_host
                        .entry(row.text("host_id")?)
                        .or_default()
                        .insert(row.text("key")?, row.text("value")?);
                }
            }
            for h in &mut hosts {
                h.labels = by_host.remove(&h.id).unwrap_or_default();
            }
            Ok(Paged { items: hosts, total: total as u64 })
        })
    }

    /// Deletes a host with its labels, agents, inventory document and history, updates,
    /// compliance snapshot and findings.
    /// Its package set stays (other hosts may share it). The cascade that deletes its
    /// findings bypasses `replace_findings`, so its findings are first subtracted from the
    /// per-package exposure counters (`exposure.rs`) in the same transaction.
    pub async fn delete_host(&self, host_id: &str) -> Result<()> {
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query("UPDATE hosts SET hostname = hostname WHERE id = $1")
                .bind(host_id)
                .execute(&mut *tx)
                .await?;
            affected("host", done.rows_affected())?;
            let rows = sqlx::query(
                "SELECT package, advisory_id, severity_rank FROM findings WHERE host_id = $1",
            )
            .bind(host_id)
            .fetch_all(&mut *tx)
            .await?;
            let mut old = Vec::with_capacity(rows.len());
            for row in &rows {
                old.push((row.text("package")?, row.text("advisory_id")?, row.int("severity_rank")?));
            }
            let delta = ExposureDelta::between(
                old.iter().map(|(p, a, r)| (p.as_str(), a.as_str(), *r)),
                [],
            );
            if !delta.is_empty() {
                apply_exposure!(tx, &delta);
            }
            sqlx::query("DELETE FROM hosts WHERE id = $1")
                .bind(host_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// The agent presenting the certificate with this fingerprint, only while it is not
    /// revoked: a revoked agent is [`Error::NotFound`], so the mTLS layer refuses it.
    pub async fn active_agent_by_fingerprint(&self, cert_fingerprint: &str) -> Result<Agent> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {AGENT_COLUMNS} FROM agents WHERE cert_fingerprint = $1 AND revoked_at IS NULL"
        ));
        with_pool!(self, pool => {
            let row = sqlx::query(sql).bind(cert_fingerprint).fetch_optional(pool).await?;
            found("agent", row.as_ref().map(agent).transpose()?)
        })
    }

    /// The agent whose certificate has this serial, revoked or not (for revocation
    /// lists and audits).
    pub async fn agent_by_serial(&self, cert_serial: &str) -> Result<Agent> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {AGENT_COLUMNS} FROM agents WHERE cert_serial = $1"
        ));
        with_pool!(self, pool => {
            let row = sqlx::query(sql).bind(cert_serial).fetch_optional(pool).await?;
            found("agent", row.as_ref().map(agent).transpose()?)
        })
    }

    /// A host's agents, revoked ones included, oldest first.
    pub async fn host_agents(&self, host_id: &str) -> Result<Vec<Agent>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {AGENT_COLUMNS} FROM agents WHERE host_id = $1 ORDER BY enrolled_at, id"
        ));
        with_pool!(self, pool => {
            let rows = sqlx::query(sql).bind(host_id).fetch_all(pool).await?;
            rows.iter().map(agent).collect()
        })
    }

    /// Revokes an agent: its certificate is refused from now on. Revoking twice keeps
    /// the first time.
    pub async fn revoke_agent(&self, agent_id: &str, now: Millis) -> Result<()> {
        with_pool!(self, pool => {
            let done = sqlx::query(
                "UPDATE agents SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1",
            )
            .bind(agent_id)
            .bind(now)
            .execute(pool)
            .await?;
            affected("agent", done.rows_affected())
        })
    }
}
