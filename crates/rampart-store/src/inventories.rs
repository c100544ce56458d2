//! What agents report: the inventory document, the package set it names, pending
//! updates and the inventory timeline.
//!
//! Package lists are stored once per distinct `package_set_hash`: a fleet built from a
//! few images holds a few sets, not one copy per host. Everything one inventory changes is
//! written in one transaction, and a resent inventory (same `content_hash`) writes only the
//! receive time, so an agent retrying after a crash cannot create duplicates.

use std::collections::BTreeMap;

use rampart_core::package::{Package, PackageFormat};
use rampart_core::severity::SeverityLevel;
use rampart_proto::{Inventory, PendingUpdate, UpdateCategory, package_set_hash};
use sqlx::QueryBuilder;

use crate::{
    BeginWrite as _, Error, Millis, Page, Paged, Result, RowExt, Store, found, from_json, new_id,
    to_json, with_pool,
};

/// Rows per multi-row INSERT: 9 columns × 1000 stays under both engines' bind limits
/// (SQLite 32 766, PostgreSQL 65 535).
const BATCH_ROWS: usize = 1000;

/// What [`Store::record_inventory`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InventoryOutcome {
    /// The host state equals the stored one; only `last_inventory_at` moved.
    Unchanged,
    /// A new state was stored.
    Stored {
        /// The package list differs from the host's previous one (findings need
        /// recomputing).
        packages_changed: bool,
        /// No host had this package list before; its rows were written now.
        new_package_set: bool,
    },
}

/// One entry of a host's inventory timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InventoryRecord {
    pub received_at: Millis,
    pub state_hash: String,
    pub package_set_hash: String,
}

pub(crate) fn format_str(format: PackageFormat) -> &'static str {
    match format {
        PackageFormat::Deb => "deb",
        PackageFormat::Rpm => "rpm",
        PackageFormat::Apk => "apk",
    }
}

fn parse_format(s: &str) -> Result<PackageFormat> {
    Ok(match s {
        "deb" => PackageFormat::Deb,
        "rpm" => PackageFormat::Rpm,
        "apk" => PackageFormat::Apk,
        _ => {
            return Err(Error::Corrupt {
                what: "package format",
                source: serde::de::Error::custom(format!("unknown package format {s:?}")),
            });
        }
    })
}

fn parse_category(s: &str) -> Result<UpdateCategory> {
    Ok(match s {
        "security" => UpdateCategory::Security,
        "other" => UpdateCategory::Other,
        "unknown" => UpdateCategory::Unknown,
        _ => {
            return Err(Error::Corrupt {
                what: "update category",
                source: serde::de::Error::custom(format!("unknown update category {s:?}")),
            });
        }
    })
}

/// A pending update as stored: what the agent reported plus what the server learnt
/// from its findings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostUpdate {
    /// As reported, except `category`, which is the effective class: `Security` when
    /// the package manager said so or when the update fixes a finding, else `Other`
    /// (never `Unknown`).
    pub update: PendingUpdate,
    /// What the package manager said (`Unknown` on apk).
    pub reported_category: UpdateCategory,
    /// Advisories whose fixed version this update reaches, sorted.
    pub fixes: Vec<String>,
    /// The worst severity among `fixes`.
    pub severity: Option<SeverityLevel>,
}

/// What the findings say about one pending update, for
/// [`Store::classify_host_updates`]. The (name, arch, candidate) triple identifies the
/// update, so a classification computed before a newer inventory replaced the list
/// cannot land on a different update.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateClassification {
    pub name: String,
    pub arch: Option<String>,
    pub candidate: String,
    pub fixes: Vec<String>,
    pub severity: Option<SeverityLevel>,
}

/// The class an update gets before the server knows what it fixes.
fn initial_category(reported: UpdateCategory) -> UpdateCategory {
    match reported {
        UpdateCategory::Security => UpdateCategory::Security,
        UpdateCategory::Other | UpdateCategory::Unknown => UpdateCategory::Other,
    }
}

fn package(row: &impl RowExt) -> Result<Package> {
    Ok(Package {
        name: row.text("name")?,
        version: row.text("version")?,
        arch: row.opt_text("arch")?,
        source_name: row.opt_text("source_name")?,
        source_version: row.opt_text("source_version")?,
        format: parse_format(&row.text("format")?)?,
    })
}

/// The packages of rows from a `LEFT JOIN` on `package_set_members`: a row without a
/// member (`name` NULL) stands for an empty set.
fn members<R: RowExt>(rows: Vec<R>) -> Result<Vec<Package>> {
    rows.iter()
        .filter_map(|row| match row.opt_text("name") {
            Ok(Some(_)) => Some(package(row)),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        })
        .collect()
}

fn update(row: &impl RowExt) -> Result<HostUpdate> {
    let severity = match row.opt_text("severity")? {
        Some(word) => Some(word.parse::<SeverityLevel>().map_err(|e| Error::Corrupt {
            what: "update severity",
            source: serde::de::Error::custom(e),
        })?),
        None => None,
    };
    Ok(HostUpdate {
        update: PendingUpdate {
            name: row.text("name")?,
            arch: row.opt_text("arch")?,
            installed: row.text("installed")?,
            candidate: row.text("candidate")?,
            origin: row.text("origin")?,
            category: parse_category(&row.text("category")?)?,
        },
        reported_category: parse_category(&row.text("reported_category")?)?,
        fixes: from_json("update fixes", &row.text("fixes")?)?,
        severity,
    })
}

/// How many upgrades a host's latest inventory lists as pending, and how many of them
/// are security fixes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UpdateCounts {
    pub total: u64,
    pub security: u64,
}

/// Inventory history entries kept per host (the newest).
pub const HISTORY_KEPT: i64 = 500;

/// `lock` on PostgreSQL, `None` on SQLite (which has no row locks: one writer at a time).
fn lock_suffix(backend: crate::BackendKind, lock: &'static str) -> Option<&'static str> {
    match backend {
        crate::BackendKind::Postgres => Some(lock),
        crate::BackendKind::Sqlite => None,
    }
}

/// Deletes the package set `$1` (and, by cascade, its members) unless a host uses it.
const DELETE_SET_IF_UNUSED: &str = "DELETE FROM package_sets WHERE hash = $1
     AND NOT EXISTS (SELECT 1 FROM hosts h WHERE h.package_set_hash = $1)";

impl Store {
    /// Stores an inventory received from `host_id` at `now` (server clock): the
    /// document, the host's OS facts, its package set (written only if no host had it
    /// yet), its pending updates and a timeline entry, all in one transaction. An
    /// inventory whose state equals the stored one changes nothing but
    /// `last_inventory_at`.
    pub async fn record_inventory(
        &self,
        host_id: &str,
        inventory: &Inventory,
        now: Millis,
    ) -> Result<InventoryOutcome> {
        let state = &inventory.state;
        let state_hash = state.content_hash();
        let facts = &state.host;
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            // Writing first takes the host's row lock (PostgreSQL) or the write lock
            // (SQLite), so two inventories for one host are stored one after the other.
            let previous = sqlx::query(
                "UPDATE hosts SET last_inventory_at = $2,
                     last_seen = CASE WHEN last_seen < $2 THEN $2 ELSE last_seen END
                 WHERE id = $1 RETURNING state_hash, package_set_hash",
            )
            .bind(host_id)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let previous = found("host", previous)?;
            sqlx::query(crate::compliance::STALE_HOST_SEEN)
                .bind(host_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            if previous.opt_text("state_hash")?.as_deref() == Some(state_hash.as_str()) {
                tx.commit().await?;
                return Ok(InventoryOutcome::Unchanged);
            }
            // Hashed and encoded only now: a resent inventory costs one hash.
            let set_hash = package_set_hash(&state.packages);
            let document = to_json(inventory);
            let packages_changed =
                previous.opt_text("package_set_hash")?.as_deref() != Some(set_hash.as_str());

            // PostgreSQL: a share lock on an existing set keeps a concurrent check-in
            // (whose host leaves it) from deleting it under us; if that delete won, the
            // row is gone and the set is inserted afresh. SQLite serialises writers.
            if let Some(lock) = lock_suffix(self.backend(), " FOR SHARE") {
                let sql = sqlx::AssertSqlSafe(format!(
                    "SELECT hash FROM package_sets WHERE hash = $1{lock}"
                ));
                sqlx::query(sql).bind(&set_hash).fetch_optional(&mut *tx).await?;
            }
            let inserted = sqlx::query(
                "INSERT INTO package_sets (hash, package_count, created_at) VALUES ($1, $2, $3)
                 ON CONFLICT (hash) DO NOTHING",
            )
            .bind(&set_hash)
            .bind(state.packages.len() as i64)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let new_package_set = inserted.rows_affected() == 1;
            if new_package_set {
                for (chunk_no, chunk) in state.packages.chunks(BATCH_ROWS).enumerate() {
                    let mut qb = QueryBuilder::new(
                        "INSERT INTO package_set_members (set_hash, position, name, version, \
                         arch, source_name, source_version, format) ",
                    );
                    qb.push_values(chunk.iter().enumerate(), |mut b, (i, p)| {
                        b.push_bind(set_hash.clone())
                            .push_bind((chunk_no * BATCH_ROWS + i) as i64)
                            .push_bind(p.name.clone())
                            .push_bind(p.version.clone())
                            .push_bind(p.arch.clone())
                            .push_bind(p.source_name.clone())
                            .push_bind(p.source_version.clone())
                            .push_bind(format_str(p.format));
                    });
                    qb.build().execute(&mut *tx).await?;
                }
            }

            sqlx::query(
                "UPDATE hosts SET hostname = $2, machine_id = COALESCE($3, machine_id),
                     os_id = $4, os_version = $5, os_pretty_name = $6, ecosystem = $7,
                     state_hash = $8, package_set_hash = $9,
                     last_updated_at = COALESCE($10, last_updated_at)
                 WHERE id = $1",
            )
            .bind(host_id)
            .bind(&facts.hostname)
            .bind(&facts.machine_id)
            .bind(&facts.os.id)
            .bind(&facts.os.version_id)
            .bind(&facts.os.pretty_name)
            .bind(&facts.os.ecosystem)
            .bind(&state_hash)
            .bind(&set_hash)
            .bind(packages_changed.then_some(now))
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO host_inventories (host_id, document) VALUES ($1, $2)
                 ON CONFLICT (host_id) DO UPDATE SET document = excluded.document",
            )
            .bind(host_id)
            .bind(&document)
            .execute(&mut *tx)
            .await?;

            sqlx::query("DELETE FROM pending_updates WHERE host_id = $1")
                .bind(host_id)
                .execute(&mut *tx)
                .await?;
            for (chunk_no, chunk) in state.updates.chunks(BATCH_ROWS).enumerate() {
                let mut qb = QueryBuilder::new(
                    "INSERT INTO pending_updates (host_id, position, name, arch, installed, \
                     candidate, origin, category, reported_category) ",
                );
                qb.push_values(chunk.iter().enumerate(), |mut b, (i, u)| {
                    b.push_bind(host_id.to_owned())
                        .push_bind((chunk_no * BATCH_ROWS + i) as i64)
                        .push_bind(u.name.clone())
                        .push_bind(u.arch.clone())
                        .push_bind(u.installed.clone())
                        .push_bind(u.candidate.clone())
                        .push_bind(u.origin.clone())
                        .push_bind(initial_category(u.category).as_str())
                        .push_bind(u.category.as_str());
                });
                qb.build().execute(&mut *tx).await?;
            }

            sqlx::query(
                "INSERT INTO inventory_history (id, host_id, received_at, state_hash,
                                                package_set_hash)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(new_id(now))
            .bind(host_id)
            .bind(now)
            .bind(&state_hash)
            .bind(&set_hash)
            .execute(&mut *tx)
            .await?;
            // The history is a record of when the host changed, not an archive: the
            // newest HISTORY_KEPT entries per host stay.
            sqlx::query(
                "DELETE FROM inventory_history WHERE host_id = $1 AND id NOT IN
                     (SELECT id FROM inventory_history WHERE host_id = $1
                      ORDER BY received_at DESC, id DESC LIMIT $2)",
            )
            .bind(host_id)
            .bind(HISTORY_KEPT)
            .execute(&mut *tx)
            .await?;
            // The set this host used before goes when no host uses it any more. On
            // PostgreSQL its row is locked first (waiting for a check-in that is adopting
            // it), so the NOT EXISTS of the next statement sees that host.
            if let Some(old) = previous.opt_text("package_set_hash")?.filter(|_| packages_changed) {
                if let Some(lock) = lock_suffix(self.backend(), " FOR UPDATE") {
                    let sql = sqlx::AssertSqlSafe(format!(
                        "SELECT hash FROM package_sets WHERE hash = $1{lock}"
                    ));
                    sqlx::query(sql).bind(&old).fetch_optional(&mut *tx).await?;
                }
                sqlx::query(DELETE_SET_IF_UNUSED)
                    .bind(&old)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(InventoryOutcome::Stored { packages_changed, new_package_set })
        })
    }

    /// The latest inventory document of a host; `None` before its first inventory.
    pub async fn host_inventory(&self, host_id: &str) -> Result<Option<Inventory>> {
        with_pool!(self, pool => {
            let row = sqlx::query(
                "SELECT i.document FROM hosts h
                 LEFT JOIN host_inventories i ON i.host_id = h.id WHERE h.id = $1",
            )
            .bind(host_id)
            .fetch_optional(pool)
            .await?;
            match found("host", row)?.opt_text("document")? {
                Some(doc) => Ok(Some(from_json("inventory", &doc)?)),
                None => Ok(None),
            }
        })
    }

    /// The packages installed on a host, in the order the agent sent them (empty before
    /// its first inventory). One statement: a check-in replacing the host's set (and
    /// deleting the old one) cannot fall between reading the host and its packages.
    pub async fn host_packages(&self, host_id: &str) -> Result<Vec<Package>> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT h.id AS host_id, m.name, m.version, m.arch, m.source_name,
                        m.source_version, m.format
                 FROM hosts h
                 LEFT JOIN package_set_members m ON m.set_hash = h.package_set_hash
                 WHERE h.id = $1 ORDER BY m.position",
            )
            .bind(host_id)
            .fetch_all(pool)
            .await?;
            found("host", (!rows.is_empty()).then_some(()))?;
            members(rows)
        })
    }

    /// The packages of a stored package set, in order; [`Error::NotFound`] for an
    /// unknown hash (or one deleted since: sets go when no host uses them). One
    /// statement, so a set is never seen half deleted.
    pub async fn package_set(&self, set_hash: &str) -> Result<Vec<Package>> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT s.hash, m.name, m.version, m.arch, m.source_name, m.source_version,
                        m.format
                 FROM package_sets s
                 LEFT JOIN package_set_members m ON m.set_hash = s.hash
                 WHERE s.hash = $1 ORDER BY m.position",
            )
            .bind(set_hash)
            .fetch_all(pool)
            .await?;
            found("package set", (!rows.is_empty()).then_some(()))?;
            members(rows)
        })
    }

    /// The upgrades pending on a host according to its latest inventory, with what the
    /// server learnt about them.
    pub async fn host_updates(&self, host_id: &str) -> Result<Vec<HostUpdate>> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT name, arch, installed, candidate, origin, category,
                        reported_category, fixes, severity
                 FROM pending_updates WHERE host_id = $1 ORDER BY position",
            )
            .bind(host_id)
            .fetch_all(pool)
            .await?;
            rows.iter().map(update).collect()
        })
    }

    /// Records which findings each of a host's pending updates fixes, and with it the
    /// effective category: `security` when the package manager reported it so or when
    /// it fixes anything. Updates not named keep their reported class and lose any
    /// previous fixes (their findings are gone). One transaction.
    pub async fn classify_host_updates(
        &self,
        host_id: &str,
        classes: &[UpdateClassification],
    ) -> Result<()> {
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "UPDATE pending_updates SET fixes = '[]', severity = NULL,
                        category = CASE WHEN reported_category = 'security'
                                        THEN 'security' ELSE 'other' END
                 WHERE host_id = $1",
            )
            .bind(host_id)
            .execute(&mut *tx)
            .await?;
            for class in classes.iter().filter(|c| !c.fixes.is_empty()) {
                sqlx::query(
                    "UPDATE pending_updates SET fixes = $1, severity = $2, category = 'security'
                     WHERE host_id = $3 AND name = $4 AND candidate = $5
                       AND COALESCE(arch, '') = $6",
                )
                .bind(to_json(&class.fixes))
                .bind(class.severity.map(SeverityLevel::as_str))
                .bind(host_id)
                .bind(&class.name)
                .bind(&class.candidate)
                .bind(class.arch.as_deref().unwrap_or(""))
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Pending upgrades of every host that has any, keyed by host id, in one grouped
    /// query: reports need them for the whole estate at once.
    pub async fn pending_update_counts_by_host(&self) -> Result<BTreeMap<String, UpdateCounts>> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT host_id, COUNT(*) AS total,
                        COUNT(CASE WHEN category = 'security' THEN 1 END) AS security
                 FROM pending_updates GROUP BY host_id",
            )
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|row| {
                    Ok((
                        row.text("host_id")?,
                        UpdateCounts {
                            total: row.int("total")? as u64,
                            security: row.int("security")? as u64,
                        },
                    ))
                })
                .collect()
        })
    }

    /// A host's inventory timeline, newest first.
    pub async fn inventory_history(
        &self,
        host_id: &str,
        page: Page,
    ) -> Result<Paged<InventoryRecord>> {
        with_pool!(self, pool => {
            let total = sqlx::query("SELECT COUNT(*) AS n FROM inventory_history WHERE host_id = $1")
                .bind(host_id)
                .fetch_one(pool)
                .await?
                .int("n")?;
            let rows = sqlx::query(
                "SELECT received_at, state_hash, package_set_hash FROM inventory_history
                 WHERE host_id = $1 ORDER BY received_at DESC, id DESC LIMIT $2 OFFSET $3",
            )
            .bind(host_id)
            .bind(i64::from(page.limit))
            .bind(i64::try_from(page.offset).unwrap_or(i64::MAX))
            .fetch_all(pool)
            .await?;
            let items = rows
                .iter()
                .map(|row| {
                    Ok(InventoryRecord {
                        received_at: row.int("received_at")?,
                        state_hash: row.text("state_hash")?,
                        package_set_hash: row.text("package_set_hash")?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(Paged { items, total: total as u64 })
        })
    }

    /// Deletes every package set no host uses (left behind by deleted hosts), with its
    /// members; returns how many went. Check-ins remove a host's previous set
    /// themselves, so this only sweeps up after deletions.
    pub async fn collect_unused_package_sets(&self) -> Result<u64> {
        // PostgreSQL: sets a check-in is adopting right now (share-locked) are skipped,
        // not waited for; the next sweep looks again.
        let lock = lock_suffix(self.backend(), " FOR UPDATE SKIP LOCKED").unwrap_or("");
        let sql = sqlx::AssertSqlSafe(format!(
            "DELETE FROM package_sets WHERE hash IN
                 (SELECT s.hash FROM package_sets s WHERE NOT EXISTS
                     (SELECT 1 FROM hosts h WHERE h.package_set_hash = s.hash){lock})"
        ));
        with_pool!(self, pool => {
            let done = sqlx::query(sql).execute(pool).await?;
            Ok(done.rows_affected())
        })
    }

    /// The number of stored package sets and of their member rows, for the health page
    /// and to show how much sharing saves.
    pub async fn package_set_stats(&self) -> Result<(u64, u64)> {
        with_pool!(self, pool => {
            let row = sqlx::query(
                "SELECT (SELECT COUNT(*) FROM package_sets) AS sets,
                        (SELECT COUNT(*) FROM package_set_members) AS members",
            )
            .fetch_one(pool)
            .await?;
            Ok((row.int("sets")? as u64, row.int("members")? as u64))
        })
    }
}
