//! Software policies (allow/deny globs per project) and the unauthorized packages they
//! find on hosts.
//!
//! An unauthorized package keeps the time Rampart first saw it on the host (server
//! clock) and the agent's observation time of that inventory (agent clock), so
//! time-to-detect = `first_seen - observed_at` survives later inventories. The globs
//! themselves are judged in `rampart_core::software_policy`.

use rampart_core::software_policy::SoftwarePolicy;
use sqlx::QueryBuilder;

use crate::users::affected;
use crate::{
    BeginWrite as _, Millis, Page, Paged, Result, RowExt, Store, found, from_json, to_json,
    with_pool,
};

/// A project's policy and when it last changed (`None`: never set, the empty policy).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectSoftwarePolicy {
    pub project_id: String,
    pub policy: SoftwarePolicy,
    pub updated_at: Option<Millis>,
}

/// A package a policy refuses, as the compliance engine found it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewUnauthorized {
    pub package: String,
    pub version: String,
    /// The project whose policy refuses it.
    pub project_id: Option<String>,
    /// Why, in words.
    pub rule: String,
}

/// A stored unauthorized-package finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnauthorizedPackage {
    pub host_id: String,
    pub hostname: String,
    pub package: String,
    pub version: String,
    pub project_id: Option<String>,
    pub rule: String,
    /// Server clock, when Rampart first found it on this host.
    pub first_seen: Millis,
    /// Agent clock, when the agent observed the inventory that first contained it.
    pub observed_at: Option<Millis>,
    pub updated_at: Millis,
}

impl UnauthorizedPackage {
    /// First seen by Rampart minus the agent's observation, never negative (an agent
    /// clock ahead of the server's would otherwise give a negative delay).
    pub fn time_to_detect(&self) -> Option<Millis> {
        self.observed_at.map(|o| (self.first_seen - o).max(0))
    }
}

/// Which unauthorized packages [`Store::list_unauthorized`] returns.
#[derive(Clone, Debug, Default)]
pub struct UnauthorizedFilter {
    pub host_id: Option<String>,
    /// Hosts the project's selector selects.
    pub project_id: Option<String>,
    pub package: Option<String>,
}

fn unauthorized(row: &impl RowExt) -> Result<UnauthorizedPackage> {
    Ok(UnauthorizedPackage {
        host_id: row.text("host_id")?,
        hostname: row.text("hostname")?,
        package: row.text("package")?,
        version: row.text("version")?,
        project_id: row.opt_text("project_id")?,
        rule: row.text("rule")?,
        first_seen: row.int("first_seen")?,
        observed_at: row.opt_int("observed_at")?,
        updated_at: row.int("updated_at")?,
    })
}

fn push_unauthorized_filter<DB: sqlx::Database>(
    qb: &mut QueryBuilder<DB>,
    filter: &UnauthorizedFilter,
) where
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    if let Some(host) = &filter.host_id {
        qb.push(" AND u.host_id = ").push_bind(host.clone());
    }
    if let Some(package) = &filter.package {
        qb.push(" AND u.package = ").push_bind(package.clone());
    }
    if let Some(project) = &filter.project_id {
        qb.push(" AND EXISTS (SELECT 1 FROM projects p WHERE p.id = ")
            .push_bind(project.clone())
            .push(
                " AND NOT EXISTS (SELECT 1 FROM project_selectors s WHERE s.project_id = p.id \
                 AND NOT EXISTS (SELECT 1 FROM host_labels l WHERE l.host_id = u.host_id \
                 AND l.key = s.key AND l.value = s.value)))",
            );
    }
}

impl Store {
    /// A project's policy; the empty policy when none was set. [`crate::Error::NotFound`]
    /// for an unknown project.
    pub async fn software_policy(&self, project_id: &str) -> Result<ProjectSoftwarePolicy> {
        with_pool!(self, pool => {
            let project = sqlx::query("SELECT id FROM projects WHERE id = $1")
                .bind(project_id)
                .fetch_optional(pool)
                .await?;
            found("project", project)?;
            let row = sqlx::query(
                "SELECT allow, deny, updated_at FROM software_policies WHERE project_id = $1",
            )
            .bind(project_id)
            .fetch_optional(pool)
            .await?;
            Ok(match row {
                Some(row) => ProjectSoftwarePolicy {
                    project_id: project_id.to_owned(),
                    policy: SoftwarePolicy {
                        allow: from_json("software policy", &row.text("allow")?)?,
                        deny: from_json("software policy", &row.text("deny")?)?,
                    },
                    updated_at: Some(row.int("updated_at")?),
                },
                None => ProjectSoftwarePolicy {
                    project_id: project_id.to_owned(),
                    policy: SoftwarePolicy::default(),
                    updated_at: None,
                },
            })
        })
    }

    /// Replaces a project's policy (compile it with `SoftwarePolicy::compile` first).
    pub async fn set_software_policy(
        &self,
        project_id: &str,
        policy: &SoftwarePolicy,
        now: Millis,
    ) -> Result<ProjectSoftwarePolicy> {
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query("UPDATE projects SET updated_at = updated_at WHERE id = $1")
                .bind(project_id)
                .execute(&mut *tx)
                .await?;
            affected("project", done.rows_affected())?;
            sqlx::query(
                "INSERT INTO software_policies (project_id, allow, deny, updated_at)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (project_id) DO UPDATE SET allow = excluded.allow,
                     deny = excluded.deny, updated_at = excluded.updated_at",
            )
            .bind(project_id)
            .bind(to_json(&policy.allow))
            .bind(to_json(&policy.deny))
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        self.software_policy(project_id).await
    }

    /// Every policy that was set, by project id.
    pub async fn software_policies(&self) -> Result<Vec<ProjectSoftwarePolicy>> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT project_id, allow, deny, updated_at FROM software_policies ORDER BY project_id",
            )
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|row| {
                    Ok(ProjectSoftwarePolicy {
                        project_id: row.text("project_id")?,
                        policy: SoftwarePolicy {
                            allow: from_json("software policy", &row.text("allow")?)?,
                            deny: from_json("software policy", &row.text("deny")?)?,
                        },
                        updated_at: Some(row.int("updated_at")?),
                    })
                })
                .collect()
        })
    }

    /// Replaces a host's unauthorized packages with `found` (the engine's complete
    /// answer), atomically. A package already recorded keeps `first_seen` and
    /// `observed_at` (its version and rule are refreshed); new ones get `now` and
    /// `observed_at` (the agent's time of the inventory judged). Returns the packages
    /// that are new.
    pub async fn replace_unauthorized(
        &self,
        host_id: &str,
        found_now: &[NewUnauthorized],
        observed_at: Option<Millis>,
        now: Millis,
    ) -> Result<Vec<String>> {
        if found_now.is_empty() {
            // The common case (no policy, or every package allowed) on every evaluation:
            // one delete that usually matches nothing, so no row lock and, on
            // PostgreSQL, no commit to flush.
            with_pool!(self, pool => {
                let done = sqlx::query("DELETE FROM unauthorized_packages WHERE host_id = $1")
                    .bind(host_id)
                    .execute(pool)
                    .await?;
                if done.rows_affected() == 0 {
                    let host = sqlx::query("SELECT id FROM hosts WHERE id = $1")
                        .bind(host_id)
                        .fetch_optional(pool)
                        .await?;
                    found("host", host)?;
                }
            });
            return Ok(Vec::new());
        }
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query("UPDATE hosts SET hostname = hostname WHERE id = $1")
                .bind(host_id)
                .execute(&mut *tx)
                .await?;
            affected("host", done.rows_affected())?;
            let rows = sqlx::query("SELECT package FROM unauthorized_packages WHERE host_id = $1")
                .bind(host_id)
                .fetch_all(&mut *tx)
                .await?;
            let mut known = std::collections::HashSet::new();
            for row in &rows {
                known.insert(row.text("package")?);
            }
            let mut keep = std::collections::HashSet::new();
            let mut new = Vec::new();
            for item in found_now {
                if !keep.insert(item.package.clone()) {
                    continue;
                }
                if known.contains(&item.package) {
                    sqlx::query(
                        "UPDATE unauthorized_packages SET version = $3, project_id = $4, rule = $5,
                             updated_at = $6
                         WHERE host_id = $1 AND package = $2",
                    )
                    .bind(host_id)
                    .bind(&item.package)
                    .bind(&item.version)
                    .bind(&item.project_id)
                    .bind(&item.rule)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                } else {
                    sqlx::query(
                        "INSERT INTO unauthorized_packages (host_id, package, version, project_id,
                             rule, first_seen, observed_at, updated_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $6)",
                    )
                    .bind(host_id)
                    .bind(&item.package)
                    .bind(&item.version)
                    .bind(&item.project_id)
                    .bind(&item.rule)
                    .bind(now)
                    .bind(observed_at)
                    .execute(&mut *tx)
                    .await?;
                    new.push(item.package.clone());
                }
            }
            for gone in known.difference(&keep) {
                sqlx::query("DELETE FROM unauthorized_packages WHERE host_id = $1 AND package = $2")
                    .bind(host_id)
                    .bind(gone)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(new)
        })
    }

    /// Unauthorized packages across the estate, by hostname then package.
    pub async fn list_unauthorized(
        &self,
        filter: &UnauthorizedFilter,
        page: Page,
    ) -> Result<Paged<UnauthorizedPackage>> {
        with_pool!(self, pool => {
            let mut count = QueryBuilder::new(
                "SELECT COUNT(*) AS n FROM unauthorized_packages u WHERE 1 = 1",
            );
            push_unauthorized_filter(&mut count, filter);
            let total = count.build().fetch_one(pool).await?.int("n")?;
            let mut list = QueryBuilder::new(
                "SELECT u.host_id, h.hostname, u.package, u.version, u.project_id, u.rule, \
                 u.first_seen, u.observed_at, u.updated_at \
                 FROM unauthorized_packages u JOIN hosts h ON h.id = u.host_id WHERE 1 = 1",
            );
            push_unauthorized_filter(&mut list, filter);
            list.push(" ORDER BY h.hostname, u.host_id, u.package LIMIT ")
                .push_bind(i64::from(page.limit))
                .push(" OFFSET ")
                .push_bind(i64::try_from(page.offset).unwrap_or(i64::MAX));
            let rows = list.build().fetch_all(pool).await?;
            let items = rows.iter().map(unauthorized).collect::<Result<Vec<_>>>()?;
            Ok(Paged { items, total: total as u64 })
        })
    }
}
