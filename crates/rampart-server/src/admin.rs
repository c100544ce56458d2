//! Account operations shared by the REST API and the offline `rampart admin` commands,
//! so both validate and hash exactly alike.

use rampart_core::authz::Role;
use rampart_store::{ApiToken, Millis, NewApiToken, NewUser, Store, User};

use crate::ApiError;
use crate::secrets::{API_TOKEN_PREFIX, IssuedSecret, check_password_policy, hash_password};

/// Checks a user or token name: 1–64 characters of letters, digits, `.`, `_`, `-`, `@`.
pub fn check_name(what: &str, name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "{what} must be 1-64 characters of letters, digits, '.', '_', '-' or '@'"
        )))
    }
}

/// Creates a user with an Argon2id-hashed password.
pub async fn create_user(
    store: &Store,
    name: &str,
    role: Role,
    password: String,
    now: Millis,
) -> Result<User, ApiError> {
    check_name("user name", name)?;
    check_password_policy(&password).map_err(ApiError::BadRequest)?;
    let password_hash = hash_password(password).await?;
    store
        .create_user(
            NewUser {
                name,
                role: role.as_str(),
                password_hash: &password_hash,
            },
            now,
        )
        .await
        .map_err(|e| match e {
            rampart_store::Error::Conflict { .. } => {
                ApiError::Conflict(format!("a user named {name:?} already exists"))
            }
            e => e.into(),
        })
}

/// A token just issued: the secret (shown once) and its stored record.
pub struct IssuedApiToken {
    pub token: String,
    pub record: ApiToken,
}

impl std::fmt::Debug for IssuedApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedApiToken")
            .field("token", &"<redacted>")
            .field("record", &self.record)
            .finish()
    }
}

/// Issues an API token for `user`, limited to `scope` (empty: the user's own role). A
/// scope may only narrow: naming a role the user lacks is refused rather than
/// silently producing a token that can do nothing.
pub async fn create_api_token(
    store: &Store,
    user: &User,
    name: Option<&str>,
    scope: &[Role],
    expires_at: Option<Millis>,
    now: Millis,
) -> Result<IssuedApiToken, ApiError> {
    let roles = crate::auth::roles_of(user);
    if let Some(extra) = scope.iter().find(|r| !roles.contains(r)) {
        return Err(ApiError::Forbidden(format!(
            "token scope {extra} is not one of {}'s roles",
            user.name
        )));
    }
    if expires_at.is_some_and(|t| t <= now) {
        return Err(ApiError::bad_request("token expiry must be in the future"));
    }
    let scopes: Vec<String> = if scope.is_empty() {
        roles.iter().map(|r| r.as_str().to_owned()).collect()
    } else {
        scope.iter().map(|r| r.as_str().to_owned()).collect()
    };
    let default_name = format!("token-{}", &crate::secrets::random_secret()[..8]);
    let name = name.unwrap_or(&default_name);
    check_name("token name", name)?;
    let secret = IssuedSecret::generate(API_TOKEN_PREFIX);
    let record = store
        .create_api_token(
            NewApiToken {
                user_id: &user.id,
                name,
                token_hash: &secret.hash,
                scopes: &scopes,
                expires_at,
            },
            now,
        )
        .await
        .map_err(|e| match e {
            rampart_store::Error::Conflict { .. } => {
                ApiError::Conflict(format!("{} already has a token named {name:?}", user.name))
            }
            e => e.into(),
        })?;
    Ok(IssuedApiToken {
        token: secret.printed,
        record,
    })
}

/// Parses a duration like `90s`, `30m`, `24h`, `7d` into milliseconds.
pub fn parse_duration_millis(s: &str) -> Result<Millis, String> {
    let s = s.trim();
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = digits
        .parse()
        .map_err(|_| format!("invalid duration {s:?} (expected e.g. 30m, 24h, 7d)"))?;
    let unit_ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => {
            return Err(format!(
                "invalid duration {s:?} (expected e.g. 30m, 24h, 7d)"
            ));
        }
    };
    n.checked_mul(unit_ms)
        .filter(|ms| *ms > 0)
        .ok_or_else(|| format!("invalid duration {s:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_millis("24h"), Ok(86_400_000));
        assert_eq!(parse_duration_millis("90s"), Ok(90_000));
        assert!(parse_duration_millis("0h").is_err());
        assert!(parse_duration_millis("h").is_err());
        assert!(parse_duration_millis("5w").is_err());
    }

    #[test]
    fn names() {
        assert!(check_name("n", "alice.b-c_d@x").is_ok());
        assert!(check_name("n", "").is_err());
        assert!(check_name("n", "a b").is_err());
    }
}
