//! The store's one error type. Callers (HTTP handlers, the scheduler) match on the kind
//! to choose a status code; the driver's own error stays behind `source` so no caller
//! needs to import sqlx.

/// Everything a [`crate::Store`] method can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The row asked for does not exist, or exists but is not usable at `now` (an
    /// expired or revoked token, a revoked agent): callers must not be able to tell the
    /// difference, so a guessed token hash learns nothing.
    #[error("{entity} not found")]
    NotFound { entity: &'static str },
    /// A unique constraint refused the write (a user or project name taken, a token
    /// hash or certificate serial already known).
    #[error("{entity} already exists")]
    Conflict { entity: &'static str },
    /// The row cannot be deleted while others refer to it (a notification channel named
    /// by report schedules): `by` names them, so the caller can fix them first.
    #[error("{entity} is still used by {by}")]
    InUse { entity: &'static str, by: String },
    /// The database or the connection failed.
    #[error("database error")]
    Database {
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Applying the schema migrations failed; the server must not start on a schema
    /// it does not know.
    #[error("database migration failed")]
    Migration {
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// `Store::open` was given something that is neither a `postgres://` URL nor a
    /// usable SQLite path.
    #[error("invalid database location {location:?}: {reason}")]
    InvalidLocation { location: String, reason: String },
    /// A JSON document stored by this crate no longer decodes (a column edited by hand,
    /// or a document written by a newer release).
    #[error("stored {what} does not decode")]
    Corrupt {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

/// Shorthand used by every store method.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn database(source: sqlx::Error) -> Error {
        Error::Database {
            source: Box::new(source),
        }
    }

    /// Maps a driver error for a write to `entity`: unique violations become
    /// [`Error::Conflict`], foreign-key violations (the parent row is missing)
    /// [`Error::NotFound`].
    pub(crate) fn on_write(entity: &'static str) -> impl FnOnce(sqlx::Error) -> Error {
        move |e| match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => Error::Conflict { entity },
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => Error::NotFound {
                entity: "referenced row",
            },
            _ => Error::database(e),
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Error {
        match e {
            sqlx::Error::RowNotFound => Error::NotFound { entity: "row" },
            e => Error::database(e),
        }
    }
}
