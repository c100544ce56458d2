//! Imported advisories and the status of each feed. Advisories are stored as the JSON
//! of `rampart_core::advisory::Advisory` keyed by id: the server loads them all at start
//! to build the matcher's index, and re-imports upsert only what changed.

use std::collections::HashMap;

use rampart_core::advisory::Advisory;
use sqlx::QueryBuilder;

use crate::{BeginWrite as _, Millis, Result, RowExt, Store, found, from_json, to_json, with_pool};

/// Rows per multi-row upsert (5 columns).
const BATCH_ROWS: usize = 1000;

/// The outcome of one feed import, as the importer reports it.
#[derive(Clone, Debug)]
pub struct FeedImport<'a> {
    /// Feed name (`osv-debian`, `alpine-secdb`, …).
    pub source: &'a str,
    pub records: u64,
    pub problems: u64,
}

/// What is known about a feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedStatus {
    pub source: String,
    pub imported_at: Millis,
    pub record_count: u64,
    pub problem_count: u64,
    /// Counts the imports of this feed: lets replicas and caches tell whether their
    /// copy of the index is stale.
    pub generation: u64,
}

fn feed(row: &impl RowExt) -> Result<FeedStatus> {
    Ok(FeedStatus {
        source: row.text("source")?,
        imported_at: row.int("imported_at")?,
        record_count: row.int("record_count")? as u64,
        problem_count: row.int("problem_count")? as u64,
        generation: row.int("generation")? as u64,
    })
}

impl Store {
    /// Inserts or updates advisories from `source` in one transaction, in multi-row
    /// batches. A record whose stored document is identical is not rewritten; when
    /// `advisories` holds one id twice the later record wins. Returns how many rows were
    /// inserted or changed.
    pub async fn upsert_advisories(
        &self,
        source: &str,
        advisories: &[Advisory],
        now: Millis,
    ) -> Result<u64> {
        let mut position: HashMap<&str, usize> = HashMap::with_capacity(advisories.len());
        let mut unique: Vec<(&Advisory, String)> = Vec::with_capacity(advisories.len());
        for advisory in advisories {
            let doc = to_json(advisory);
            match position.get(advisory.id.as_str()) {
                Some(&i) => unique[i] = (advisory, doc),
                None => {
                    position.insert(&advisory.id, unique.len());
                    unique.push((advisory, doc));
                }
            }
        }
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let mut written = 0;
            for chunk in unique.chunks(BATCH_ROWS) {
                let mut qb =
                    QueryBuilder::new("INSERT INTO advisories (id, source, modified, document, updated_at) ");
                qb.push_values(chunk, |mut b, (advisory, doc)| {
                    b.push_bind(advisory.id.clone())
                        .push_bind(source.to_owned())
                        .push_bind(advisory.modified.clone())
                        .push_bind(doc.clone())
                        .push_bind(now);
                });
                qb.push(
                    " ON CONFLICT (id) DO UPDATE SET source = excluded.source, \
                     modified = excluded.modified, document = excluded.document, \
                     updated_at = excluded.updated_at \
                     WHERE advisories.document <> excluded.document \
                        OR advisories.source <> excluded.source",
                );
                written += qb.build().execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
            Ok(written)
        })
    }

    /// Every stored advisory, by id, to build the matcher's index at start.
    pub async fn load_advisories(&self) -> Result<Vec<Advisory>> {
        with_pool!(self, pool => {
            let rows = sqlx::query("SELECT document FROM advisories ORDER BY id")
                .fetch_all(pool)
                .await?;
            rows.iter().map(|row| from_json("advisory", &row.text("document")?)).collect()
        })
    }

    /// One advisory by id.
    pub async fn get_advisory(&self, id: &str) -> Result<Advisory> {
        with_pool!(self, pool => {
            let row = sqlx::query("SELECT document FROM advisories WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?;
            from_json("advisory", &found("advisory", row)?.text("document")?)
        })
    }

    /// The number of stored advisories.
    pub async fn advisory_count(&self) -> Result<u64> {
        with_pool!(self, pool => {
            let row = sqlx::query("SELECT COUNT(*) AS n FROM advisories").fetch_one(pool).await?;
            Ok(row.int("n")? as u64)
        })
    }

    /// Records a finished import of a feed at `now` and bumps its generation.
    pub async fn record_feed_import(
        &self,
        import: FeedImport<'_>,
        now: Millis,
    ) -> Result<FeedStatus> {
        with_pool!(self, pool => {
            let row = sqlx::query(
                "INSERT INTO feeds (source, imported_at, record_count, problem_count, generation)
                 VALUES ($1, $2, $3, $4, 1)
                 ON CONFLICT (source) DO UPDATE SET imported_at = excluded.imported_at,
                     record_count = excluded.record_count,
                     problem_count = excluded.problem_count,
                     generation = feeds.generation + 1
                 RETURNING source, imported_at, record_count, problem_count, generation",
            )
            .bind(import.source)
            .bind(now)
            .bind(import.records as i64)
            .bind(import.problems as i64)
            .fetch_one(pool)
            .await?;
            feed(&row)
        })
    }

    /// Every feed's latest import, by source.
    pub async fn list_feeds(&self) -> Result<Vec<FeedStatus>> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT source, imported_at, record_count, problem_count, generation FROM feeds
                 ORDER BY source",
            )
            .fetch_all(pool)
            .await?;
            rows.iter().map(feed).collect()
        })
    }
}
