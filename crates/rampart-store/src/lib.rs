//! Rampart's persistence: the schema, its migrations and every SQL statement the server
//! runs, for embedded SQLite (the default) and PostgreSQL (several server replicas), behind
//! one cheaply cloneable [`Store`].
//!
//! Decisions, made once for both backends so they store identical values:
//! - **Ids** are text UUIDv7 generated here (`new_id`), time-ordered from the `now`
//!   the caller passes, so listings sort by creation without another column.
//! - **Time** is Unix milliseconds (`i64`) from the *server's* clock, always passed in
//!   by the caller as `now`: an agent's clock never reaches a timestamp column, and tests
//!   are deterministic. Flags are nullable timestamps (`revoked_at`, `disabled_at`).
//! - **SQL** is hand-written in the subset both engines accept (`$n` placeholders,
//!   `ON CONFLICT`, `RETURNING`), run on each backend's native sqlx pool through the
//!   `with_pool!` macro; dynamic filters use `sqlx::QueryBuilder`. No query-builder
//!   crate: the statements stay readable and greppable, and sqlx's `Any` driver is avoided
//!   because it loses the native connection options (WAL, busy timeout).
//! - **Writes** that read first run in a transaction that starts by writing (SQLite:
//!   `BEGIN IMMEDIATE`; PostgreSQL: a row lock), so concurrent writers serialise instead
//!   of failing on a stale snapshot.
//!
//! One module per resource; each declares its row types next to its statements.

mod advisories;
mod compliance;
mod error;
mod exceptions;
mod exposure;
mod findings;
mod hosts;
mod inventories;
mod notifications;
mod projects;
mod report_schedules;
mod software_policies;
mod summary;
mod tokens;
mod users;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Postgres, Row, Sqlite, Transaction};

pub use advisories::{FeedImport, FeedStatus};
pub use compliance::{
    ComplianceFilter, ComplianceSummary, HostCompliance, PreviousCompliance, ProjectStandard,
    ScanRun, ScanTrigger, TrendPoint,
};
pub use error::{Error, Result};
pub use exceptions::{
    Actor, CoveredFinding, ExceptionDecision, ExceptionFilter, ExceptionRecord, FindingCounts,
    NewException,
};
pub use findings::{FindingFilter, HostFinding, SeverityCounts};
pub use hosts::{
    Agent, ComplianceMatch, EnrolledHost, Host, HostFilter, HostOrder, HostSort, Labels, NewAgent,
    NewHost,
};
pub use inventories::{
    HISTORY_KEPT, HostUpdate, InventoryOutcome, InventoryRecord, UpdateClassification, UpdateCounts,
};
pub use notifications::{
    ChangeRequest, ChangeRequestChange, ChangeRequestFilter, ChannelUpdate, ClaimedDelivery,
    Delivery, DeliveryFilter, DeliveryStatus, DeliveryTrouble, NewChannel, NewDelivery,
    NotificationChannel,
};
pub use projects::{NewProject, Project, ProjectUpdate};
pub use report_schedules::{ReportRun, ReportSchedule, ReportScheduleSpec};
pub use software_policies::{
    NewUnauthorized, ProjectSoftwarePolicy, UnauthorizedFilter, UnauthorizedPackage,
};
pub use summary::{EstateSummary, OsRelease, UpdateAges, VulnerablePackage};
pub use tokens::{ApiToken, EnrolmentToken, NewApiToken, NewEnrolmentToken};
pub use users::{NewSession, NewUser, Session, User};

/// Unix milliseconds on the server's clock.
pub type Millis = i64;

/// File name of the embedded database inside the data directory.
pub const SQLITE_FILE_NAME: &str = "rampart.db";

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// The server's handle on its database. Cloning is cheap (a pool handle); every method
/// is async and safe to call concurrently.
#[derive(Clone, Debug)]
pub struct Store {
    backend: Backend,
}

#[derive(Clone, Debug)]
enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Which engine a [`Store`] runs on, for logs and the `/health` endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

/// A window of a listing: at most `limit` rows after skipping `offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    pub limit: u32,
    pub offset: u64,
}

impl Default for Page {
    fn default() -> Page {
        Page {
            limit: 100,
            offset: 0,
        }
    }
}

/// One page of a listing plus the number of rows matching the filter, so a UI can show
/// "41–60 of 1 203" without a second round trip.
#[derive(Clone, Debug, PartialEq)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: u64,
}

/// Runs `$body` once per backend with `$pool` bound to that backend's native pool. The
/// body is compiled twice, so each expansion gets the backend's own types.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.backend {
            $crate::Backend::Sqlite($pool) => $body,
            $crate::Backend::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

impl Store {
    /// Opens (creating if needed) the database at `location` and brings its schema up to
    /// date. A `postgres://` or `postgresql://` URL selects PostgreSQL; anything else is a
    /// SQLite file path (optionally prefixed `sqlite:`), opened in WAL mode with foreign
    /// keys on and a busy timeout, so readers never block the writer.
    pub async fn open(location: &str) -> Result<Store> {
        if location.starts_with("postgres://") || location.starts_with("postgresql://") {
            let options =
                PgConnectOptions::from_str(location).map_err(|e| Error::InvalidLocation {
                    location: redact(location),
                    reason: e.to_string(),
                })?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options)
                .await
                .map_err(Error::database)?;
            POSTGRES_MIGRATIONS
                .run(&pool)
                .await
                .map_err(|e| Error::Migration {
                    source: Box::new(e),
                })?;
            return Ok(Store {
                backend: Backend::Postgres(pool),
            });
        }
        let path = location
            .strip_prefix("sqlite://")
            .or_else(|| location.strip_prefix("sqlite:"))
            .unwrap_or(location);
        if path.is_empty() || location.contains("://") && !location.starts_with("sqlite:") {
            return Err(Error::InvalidLocation {
                location: redact(location),
                reason: "expected a postgres:// URL or a SQLite file path".into(),
            });
        }
        Store::open_sqlite(Path::new(path)).await
    }

    /// Opens `DATA_DIR/rampart.db`, the zero-set-up default.
    pub async fn open_in_dir(data_dir: &Path) -> Result<Store> {
        Store::open_sqlite(&data_dir.join(SQLITE_FILE_NAME)).await
    }

    async fn open_sqlite(path: &Path) -> Result<Store> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL is durable across application crashes in WAL mode; only an OS crash
            // can lose the last transactions, never corrupt the file.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(Error::database)?;
        SQLITE_MIGRATIONS
            .run(&pool)
            .await
            .map_err(|e| Error::Migration {
                source: Box::new(e),
            })?;
        Ok(Store {
            backend: Backend::Sqlite(pool),
        })
    }

    /// The engine behind this store.
    pub fn backend(&self) -> BackendKind {
        match self.backend {
            Backend::Sqlite(_) => BackendKind::Sqlite,
            Backend::Postgres(_) => BackendKind::Postgres,
        }
    }

    /// Closes every pooled connection; waits for checked-out ones to come back. Call on
    /// shutdown so SQLite checkpoints its WAL.
    pub async fn close(&self) {
        with_pool!(self, pool => pool.close().await)
    }
}

/// Hides a password in a database URL before it reaches an error message.
fn redact(location: &str) -> String {
    match (location.find("://"), location.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &location[scheme + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &location[..scheme + 3],
                    &userinfo[..colon],
                    &location[at..]
                ),
                None => location.to_string(),
            }
        }
        _ => location.to_string(),
    }
}

/// A fresh time-ordered id (UUIDv7 from `now` plus randomness), for ids the caller must
/// know before the row exists (an agent id goes into its certificate).
pub fn new_id(now: Millis) -> String {
    let ms = u64::try_from(now).unwrap_or(0);
    let ts = uuid::Timestamp::from_unix(
        uuid::timestamp::context::NoContext,
        ms / 1000,
        ((ms % 1000) * 1_000_000) as u32,
    );
    uuid::Uuid::new_v7(ts).to_string()
}

/// Starts a write transaction that takes the write lock up front. On SQLite a deferred
/// transaction that reads before writing fails with `SQLITE_BUSY` when another writer
/// got in between; `BEGIN IMMEDIATE` waits for the lock instead (busy timeout).
pub(crate) trait BeginWrite {
    type Db: sqlx::Database;
    async fn begin_write(&self) -> Result<Transaction<'static, Self::Db>>;
}

impl BeginWrite for SqlitePool {
    type Db = Sqlite;
    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>> {
        self.begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(Error::database)
    }
}

impl BeginWrite for PgPool {
    type Db = Postgres;
    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>> {
        self.begin().await.map_err(Error::database)
    }
}

/// Column access shared by both row types, so row-to-struct mapping is written once.
/// Integers are BIGINT on PostgreSQL and INTEGER on SQLite; both decode as `i64`.
pub(crate) trait RowExt {
    fn text(&self, col: &str) -> Result<String>;
    fn opt_text(&self, col: &str) -> Result<Option<String>>;
    fn int(&self, col: &str) -> Result<i64>;
    fn opt_int(&self, col: &str) -> Result<Option<i64>>;
    fn opt_float(&self, col: &str) -> Result<Option<f64>>;
}

macro_rules! impl_row_ext {
    ($row:ty) => {
        impl RowExt for $row {
            fn text(&self, col: &str) -> Result<String> {
                self.try_get(col).map_err(Error::database)
            }
            fn opt_text(&self, col: &str) -> Result<Option<String>> {
                self.try_get(col).map_err(Error::database)
            }
            fn int(&self, col: &str) -> Result<i64> {
                self.try_get(col).map_err(Error::database)
            }
            fn opt_int(&self, col: &str) -> Result<Option<i64>> {
                self.try_get(col).map_err(Error::database)
            }
            fn opt_float(&self, col: &str) -> Result<Option<f64>> {
                self.try_get(col).map_err(Error::database)
            }
        }
    };
}
impl_row_ext!(SqliteRow);
impl_row_ext!(PgRow);

/// Decodes a JSON column written by this crate.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(what: &'static str, s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|source| Error::Corrupt { what, source })
}

/// Encodes a value for a JSON column. Only called on types whose serialisation cannot
/// fail (no maps with non-string keys).
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("store documents always encode")
}

/// Maps "no row" to [`Error::NotFound`] for `entity`.
pub(crate) fn found<T>(entity: &'static str, row: Option<T>) -> Result<T> {
    row.ok_or(Error::NotFound { entity })
}

/// `LIKE` pattern matching `needle` anywhere, with `\` as the escape character.
pub(crate) fn like_contains(needle: &str) -> String {
    let mut p = String::with_capacity(needle.len() + 2);
    p.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db".to_string()
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("/var/lib/rampart.db"), "/var/lib/rampart.db");
    }

    #[test]
    fn ids_are_time_ordered() {
        assert!(new_id(1_000) < new_id(2_000));
        assert_ne!(new_id(1_000), new_id(1_000));
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_contains("a%b_c\\"), "%a\\%b\\_c\\\\%");
    }
}
