//! Users of the web UI and API, and their login sessions. Password hashing (Argon2id)
//! and session-id generation are the caller's job: only hashes reach this module.

use crate::{BeginWrite as _, Error, Millis, Result, RowExt, Store, found, new_id, with_pool};

/// A person who can log in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub name: String,
    /// Role name as the authorisation rules in `core` define it.
    pub role: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// Set while the account is disabled: no login, no sessions, no API tokens.
    pub disabled_at: Option<Millis>,
}

/// What [`Store::create_user`] needs.
#[derive(Clone, Debug)]
pub struct NewUser<'a> {
    pub name: &'a str,
    pub role: &'a str,
    pub password_hash: &'a str,
}

/// A login session. The cookie carries the random session id; only its hash is stored,
/// so a leaked database does not hand out live sessions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub id_hash: String,
    pub user_id: String,
    pub csrf_token: String,
    pub created_at: Millis,
    pub expires_at: Millis,
}

/// What [`Store::create_session`] needs.
#[derive(Clone, Debug)]
pub struct NewSession<'a> {
    pub id_hash: &'a str,
    pub user_id: &'a str,
    pub csrf_token: &'a str,
    pub expires_at: Millis,
}

const USER_COLUMNS: &str = "id, name, role, password_hash, created_at, updated_at, disabled_at";

fn user(row: &impl RowExt) -> Result<User> {
    Ok(User {
        id: row.text("id")?,
        name: row.text("name")?,
        role: row.text("role")?,
        password_hash: row.text("password_hash")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
        disabled_at: row.opt_int("disabled_at")?,
    })
}

fn session(row: &impl RowExt) -> Result<Session> {
    Ok(Session {
        id_hash: row.text("id_hash")?,
        user_id: row.text("user_id")?,
        csrf_token: row.text("csrf_token")?,
        created_at: row.int("created_at")?,
        expires_at: row.int("expires_at")?,
    })
}

/// Inside a write transaction `$tx`: deletes the user's sessions and revokes their
/// API tokens (keeping the first revocation time of a token already revoked). A macro
/// because each backend's transaction is its own type.
macro_rules! end_credentials {
    ($tx:ident, $user_id:expr, $now:expr) => {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind($user_id)
            .execute(&mut *$tx)
            .await?;
        sqlx::query(
            "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE user_id = $1",
        )
        .bind($user_id)
        .bind($now)
        .execute(&mut *$tx)
        .await?;
    };
}

impl Store {
    /// Creates a user; [`Error::Conflict`] when the name is taken.
    pub async fn create_user(&self, new: NewUser<'_>, now: Millis) -> Result<User> {
        let user = User {
            id: new_id(now),
            name: new.name.to_owned(),
            role: new.role.to_owned(),
            password_hash: new.password_hash.to_owned(),
            created_at: now,
            updated_at: now,
            disabled_at: None,
        };
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO users (id, name, role, password_hash, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $5)",
            )
            .bind(&user.id)
            .bind(&user.name)
            .bind(&user.role)
            .bind(&user.password_hash)
            .bind(now)
            .execute(pool)
            .await
            .map_err(Error::on_write("user"))?;
        });
        Ok(user)
    }

    /// The user with this id.
    pub async fn get_user(&self, id: &str) -> Result<User> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"));
        with_pool!(self, pool => {
            let row = sqlx::query(sql).bind(id).fetch_optional(pool).await?;
            found("user", row.as_ref().map(user).transpose()?)
        })
    }

    /// The user with this login name (exact, case-sensitive).
    pub async fn get_user_by_name(&self, name: &str) -> Result<User> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users WHERE name = $1"));
        with_pool!(self, pool => {
            let row = sqlx::query(sql).bind(name).fetch_optional(pool).await?;
            found("user", row.as_ref().map(user).transpose()?)
        })
    }

    /// Every user, by name.
    pub async fn list_users(&self) -> Result<Vec<User>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY name, id"
        ));
        with_pool!(self, pool => {
            let rows = sqlx::query(sql).fetch_all(pool).await?;
            rows.iter().map(user).collect()
        })
    }

    /// Changes a user's role. Existing sessions keep working; the caller re-reads the
    /// role on every request.
    pub async fn set_user_role(&self, id: &str, role: &str, now: Millis) -> Result<()> {
        with_pool!(self, pool => {
            let done = sqlx::query("UPDATE users SET role = $2, updated_at = $3 WHERE id = $1")
                .bind(id)
                .bind(role)
                .bind(now)
                .execute(pool)
                .await?;
            affected("user", done.rows_affected())
        })
    }

    /// Replaces a user's password hash (password change or reset). Everything that
    /// authenticated with the old one ends in the same transaction: the user's
    /// sessions are deleted and their API tokens revoked (a leaked token must not
    /// survive the reset meant to lock its thief out).
    pub async fn set_user_password(
        &self,
        id: &str,
        password_hash: &str,
        now: Millis,
    ) -> Result<()> {
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(
                "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1",
            )
            .bind(id)
            .bind(password_hash)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            affected("user", done.rows_affected())?;
            end_credentials!(tx, id, now);
            tx.commit().await?;
            Ok(())
        })
    }

    /// Disables (or re-enables) a user. Disabling also deletes the user's sessions and
    /// revokes their API tokens in the same transaction, so nobody stays logged in and
    /// re-enabling brings no old credential back.
    pub async fn set_user_disabled(&self, id: &str, disabled: bool, now: Millis) -> Result<()> {
        let disabled_at = disabled.then_some(now);
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(
                "UPDATE users SET disabled_at = $2, updated_at = $3 WHERE id = $1",
            )
            .bind(id)
            .bind(disabled_at)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            affected("user", done.rows_affected())?;
            if disabled {
                end_credentials!(tx, id, now);
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Deletes a user with their sessions and API tokens.
    pub async fn delete_user(&self, id: &str) -> Result<()> {
        with_pool!(self, pool => {
            let done = sqlx::query("DELETE FROM users WHERE id = $1").bind(id).execute(pool).await?;
            affected("user", done.rows_affected())
        })
    }

    /// Stores a new session; [`Error::NotFound`] when the user does not exist.
    pub async fn create_session(&self, new: NewSession<'_>, now: Millis) -> Result<Session> {
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(new.id_hash)
            .bind(new.user_id)
            .bind(new.csrf_token)
            .bind(now)
            .bind(new.expires_at)
            .execute(pool)
            .await
            .map_err(Error::on_write("session"))?;
        });
        Ok(Session {
            id_hash: new.id_hash.to_owned(),
            user_id: new.user_id.to_owned(),
            csrf_token: new.csrf_token.to_owned(),
            created_at: now,
            expires_at: new.expires_at,
        })
    }

    /// The live session with this id hash together with its user: not expired at `now`
    /// and the user not disabled. Anything else is [`Error::NotFound`].
    pub async fn get_session(&self, id_hash: &str, now: Millis) -> Result<(Session, User)> {
        with_pool!(self, pool => {
            let row = sqlx::query(
                "SELECT s.id_hash, s.user_id, s.csrf_token, s.created_at AS s_created_at,
                        s.expires_at, u.id, u.name, u.role, u.password_hash, u.created_at,
                        u.updated_at, u.disabled_at
                 FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.id_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL",
            )
            .bind(id_hash)
            .bind(now)
            .fetch_optional(pool)
            .await?;
            let row = found("session", row)?;
            let mut s = session(&row)?;
            s.created_at = row.int("s_created_at")?;
            Ok((s, user(&row)?))
        })
    }

    /// Ends one session (logout).
    pub async fn delete_session(&self, id_hash: &str) -> Result<()> {
        with_pool!(self, pool => {
            let done = sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                .bind(id_hash)
                .execute(pool)
                .await?;
            affected("session", done.rows_affected())
        })
    }

    /// Ends every session of a user (password change, "log out everywhere").
    pub async fn delete_user_sessions(&self, user_id: &str) -> Result<u64> {
        with_pool!(self, pool => {
            let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user_id)
                .execute(pool)
                .await?;
            Ok(done.rows_affected())
        })
    }

    /// Deletes sessions expired at `now`; returns how many. Run periodically.
    pub async fn expire_sessions(&self, now: Millis) -> Result<u64> {
        with_pool!(self, pool => {
            let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                .bind(now)
                .execute(pool)
                .await?;
            Ok(done.rows_affected())
        })
    }
}

/// [`Error::NotFound`] when an UPDATE or DELETE by key touched nothing.
pub(crate) fn affected(entity: &'static str, rows: u64) -> Result<()> {
    if rows == 0 {
        Err(Error::NotFound { entity })
    } else {
        Ok(())
    }
}
