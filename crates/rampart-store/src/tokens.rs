//! Secrets that grant access without a password: API tokens (for scripts and the CLI)
//! and enrolment tokens (for agents joining). Only SHA-256 hashes of the random tokens
//! are stored; the caller hashes what it receives and looks the hash up.

use std::collections::BTreeMap;

use crate::users::affected;
use crate::{Error, Millis, Result, RowExt, Store, found, from_json, new_id, to_json, with_pool};

/// A long-lived API credential of one user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiToken {
    pub id: String,
    pub user_id: String,
    /// The user's label for it ("ci-deploy").
    pub name: String,
    pub token_hash: String,
    /// Permissions the token is limited to, as `core`'s authorisation names them; the
    /// effective rights are the intersection with the user's role.
    pub scopes: Vec<String>,
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
    pub revoked_at: Option<Millis>,
    pub last_used_at: Option<Millis>,
}

/// What [`Store::create_api_token`] needs.
#[derive(Clone, Debug)]
pub struct NewApiToken<'a> {
    pub user_id: &'a str,
    pub name: &'a str,
    /// SHA-256 of the random token, lowercase hex.
    pub token_hash: &'a str,
    pub scopes: &'a [String],
    pub expires_at: Option<Millis>,
}

/// A token an operator hands to hosts so their agents can enrol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnrolmentToken {
    pub id: String,
    pub token_hash: String,
    /// Project the enrolled hosts are meant for (its selector labels are usually in
    /// `labels` too); cleared if the project is deleted.
    pub project_id: Option<String>,
    /// Labels every host enrolled with this token receives.
    pub labels: BTreeMap<String, String>,
    pub created_at: Millis,
    pub expires_at: Millis,
    pub max_uses: i64,
    pub uses: i64,
    pub revoked_at: Option<Millis>,
}

/// What [`Store::create_enrolment_token`] needs.
#[derive(Clone, Debug)]
pub struct NewEnrolmentToken<'a> {
    pub token_hash: &'a str,
    pub project_id: Option<&'a str>,
    pub labels: &'a BTreeMap<String, String>,
    pub expires_at: Millis,
    pub max_uses: i64,
}

const API_COLUMNS: &str = "t.id, t.user_id, t.name, t.token_hash, t.scopes, t.created_at, \
                           t.expires_at, t.revoked_at, t.last_used_at";

const ENROL_COLUMNS: &str =
    "id, token_hash, project_id, labels, created_at, expires_at, max_uses, uses, revoked_at";

fn api_token(row: &impl RowExt) -> Result<ApiToken> {
    Ok(ApiToken {
        id: row.text("id")?,
        user_id: row.text("user_id")?,
        name: row.text("name")?,
        token_hash: row.text("token_hash")?,
        scopes: from_json("token scopes", &row.text("scopes")?)?,
        created_at: row.int("created_at")?,
        expires_at: row.opt_int("expires_at")?,
        revoked_at: row.opt_int("revoked_at")?,
        last_used_at: row.opt_int("last_used_at")?,
    })
}

fn enrolment_token(row: &impl RowExt) -> Result<EnrolmentToken> {
    Ok(EnrolmentToken {
        id: row.text("id")?,
        token_hash: row.text("token_hash")?,
        project_id: row.opt_text("project_id")?,
        labels: from_json("token labels", &row.text("labels")?)?,
        created_at: row.int("created_at")?,
        expires_at: row.int("expires_at")?,
        max_uses: row.int("max_uses")?,
        uses: row.int("uses")?,
        revoked_at: row.opt_int("revoked_at")?,
    })
}

impl Store {
    /// Stores a new API token; [`Error::Conflict`] when the user already has a token of
    /// that name (or, astronomically unlikely, the hash exists).
    pub async fn create_api_token(&self, new: NewApiToken<'_>, now: Millis) -> Result<ApiToken> {
        let token = ApiToken {
            id: new_id(now),
            user_id: new.user_id.to_owned(),
            name: new.name.to_owned(),
            token_hash: new.token_hash.to_owned(),
            scopes: new.scopes.to_vec(),
            created_at: now,
            expires_at: new.expires_at,
            revoked_at: None,
            last_used_at: None,
        };
        let scopes = to_json(&token.scopes);
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO api_tokens (id, user_id, name, token_hash, scopes, created_at,
                                         expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&token.id)
            .bind(&token.user_id)
            .bind(&token.name)
            .bind(&token.token_hash)
            .bind(&scopes)
            .bind(now)
            .bind(token.expires_at)
            .execute(pool)
            .await
            .map_err(Error::on_write("api token"))?;
        });
        Ok(token)
    }

    /// The usable token with this hash: not revoked, not expired at `now`, its user not
    /// disabled. Anything else is [`Error::NotFound`], indistinguishably.
    pub async fn find_api_token(&self, token_hash: &str, now: Millis) -> Result<ApiToken> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {API_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL
               AND (t.expires_at IS NULL OR t.expires_at > $2) AND u.disabled_at IS NULL"
        ));
        with_pool!(self, pool => {
            let row = sqlx::query(sql).bind(token_hash).bind(now).fetch_optional(pool).await?;
            found("api token", row.as_ref().map(api_token).transpose()?)
        })
    }

    /// A user's tokens, revoked and expired ones included, newest first.
    pub async fn list_api_tokens(&self, user_id: &str) -> Result<Vec<ApiToken>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {API_COLUMNS} FROM api_tokens t WHERE t.user_id = $1 ORDER BY t.id DESC"
        ));
        with_pool!(self, pool => {
            let rows = sqlx::query(sql).bind(user_id).fetch_all(pool).await?;
            rows.iter().map(api_token).collect()
        })
    }

    /// Revokes a token. Revoking twice keeps the first revocation time.
    pub async fn revoke_api_token(&self, id: &str, now: Millis) -> Result<()> {
        with_pool!(self, pool => {
            let done = sqlx::query(
                "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1",
            )
            .bind(id)
            .bind(now)
            .execute(pool)
            .await?;
            affected("api token", done.rows_affected())
        })
    }

    /// Records that a token was used at `now` (shown to users so they can spot stale or
    /// stolen tokens).
    pub async fn touch_api_token(&self, id: &str, now: Millis) -> Result<()> {
        with_pool!(self, pool => {
            let done = sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
                .bind(id)
                .bind(now)
                .execute(pool)
                .await?;
            affected("api token", done.rows_affected())
        })
    }

    /// Stores a new enrolment token; `max_uses` below 1 makes a token nobody can use.
    pub async fn create_enrolment_token(
        &self,
        new: NewEnrolmentToken<'_>,
        now: Millis,
    ) -> Result<EnrolmentToken> {
        let token = EnrolmentToken {
            id: new_id(now),
            token_hash: new.token_hash.to_owned(),
            project_id: new.project_id.map(str::to_owned),
            labels: new.labels.clone(),
            created_at: now,
            expires_at: new.expires_at,
            max_uses: new.max_uses,
            uses: 0,
            revoked_at: None,
        };
        let labels = to_json(&token.labels);
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO enrolment_tokens (id, token_hash, project_id, labels, created_at,
                                               expires_at, max_uses, uses)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 0)",
            )
            .bind(&token.id)
            .bind(&token.token_hash)
            .bind(&token.project_id)
            .bind(&labels)
            .bind(now)
            .bind(token.expires_at)
            .bind(token.max_uses)
            .execute(pool)
            .await
            .map_err(Error::on_write("enrolment token"))?;
        });
        Ok(token)
    }

    /// Uses the token with this hash once, if it is usable at `now` (not revoked, not
    /// expired, uses left), and returns it with `uses` already incremented. One
    /// conditional `UPDATE … RETURNING`: the check and the increment are a single
    /// statement, so concurrent enrolments can never exceed `max_uses` on either
    /// backend. An unusable token is [`Error::NotFound`].
    pub async fn consume_enrolment_token(
        &self,
        token_hash: &str,
        now: Millis,
    ) -> Result<EnrolmentToken> {
        let sql = sqlx::AssertSqlSafe(format!(
            "UPDATE enrolment_tokens SET uses = uses + 1
             WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2
               AND uses < max_uses
             RETURNING {ENROL_COLUMNS}"
        ));
        with_pool!(self, pool => {
            let row = sqlx::query(sql).bind(token_hash).bind(now).fetch_optional(pool).await?;
            found("enrolment token", row.as_ref().map(enrolment_token).transpose()?)
        })
    }

    /// The enrolment token with this hash whatever its state, so the enrolment handler
    /// can tell an agent why a token it holds was refused (expired, revoked, used up).
    /// Only callers that hold the secret can produce the hash.
    pub async fn enrolment_token_by_hash(&self, token_hash: &str) -> Result<EnrolmentToken> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {ENROL_COLUMNS} FROM enrolment_tokens WHERE token_hash = $1"
        ));
        with_pool!(self, pool => {
            let row = sqlx::query(sql).bind(token_hash).fetch_optional(pool).await?;
            found("enrolment token", row.as_ref().map(enrolment_token).transpose()?)
        })
    }

    /// Every enrolment token, newest first.
    pub async fn list_enrolment_tokens(&self) -> Result<Vec<EnrolmentToken>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {ENROL_COLUMNS} FROM enrolment_tokens ORDER BY id DESC"
        ));
        with_pool!(self, pool => {
            let rows = sqlx::query(sql).fetch_all(pool).await?;
            rows.iter().map(enrolment_token).collect()
        })
    }

    /// Revokes an enrolment token; hosts already enrolled with it stay enrolled.
    pub async fn revoke_enrolment_token(&self, id: &str, now: Millis) -> Result<()> {
        with_pool!(self, pool => {
            let done = sqlx::query(
                "UPDATE enrolment_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1",
            )
            .bind(id)
            .bind(now)
            .execute(pool)
            .await?;
            affected("enrolment token", done.rows_affected())
        })
    }
}
