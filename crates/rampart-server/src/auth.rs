//! Authentication (who is calling) and authorisation (may they), as extractors.
//!
//! A handler states the permission it needs in its signature — `Authorized<HostsRead>`
//! — so a route cannot exist without one: the extractor authenticates the request,
//! then asks the one decision function, [`rampart_core::authz::decide`]. Anonymous,
//! unknown, expired and revoked credentials are 401; a principal the decision refuses
//! is 403 with the decision's reason.
//!
//! Credentials, in order:
//! - `Authorization: Bearer rpt_…` — an API token, looked up by its SHA-256; the
//!   owner's role narrowed by the token's scope.
//! - Cookie `rampart_session` — a login session (HttpOnly, SameSite=Strict, Secure over
//!   TLS). A cookie rides along on cross-site requests a browser makes, so every
//!   state-changing request authenticated by it must also carry `X-CSRF-Token` equal to
//!   the session's CSRF token, which only a page of ours could have read.
//!
//! An `Authorization` header that is present but not a valid bearer token is 401 even
//! when a cookie would have worked: an explicit credential is never silently replaced.

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use rampart_core::authz::{
    Action, Credential, Decision, Permission, Principal, Resource, Role, decide,
};
use rampart_store::{Millis, User};

use crate::secrets::{API_TOKEN_PREFIX, constant_time_eq, sha256_hex};
use crate::{ApiError, AppState};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "rampart_session";
/// Header carrying the CSRF token on cookie-authenticated writes.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A permission a handler requires, as a type so it can sit in the signature.
pub trait RequiredPermission: Send + Sync + 'static {
    const PERMISSION: Permission;
}

macro_rules! permissions {
    ($($(#[$doc:meta])* $name:ident = $resource:ident $action:ident;)*) => {
        $(
            $(#[$doc])*
            #[derive(Debug)]
            pub struct $name;
            impl RequiredPermission for $name {
                const PERMISSION: Permission = Permission::new(Resource::$resource, Action::$action);
            }
        )*
    };
}

permissions! {
    HostsRead = Hosts Read;
    HostsUpdate = Hosts Update;
    HostsDelete = Hosts Delete;
    FindingsRead = Findings Read;
    AdvisoriesRead = Advisories Read;
    ProjectsRead = Projects Read;
    ProjectsCreate = Projects Create;
    ProjectsUpdate = Projects Update;
    ProjectsDelete = Projects Delete;
    FeedsRead = Feeds Read;
    FeedsCreate = Feeds Create;
    EnrollmentTokensRead = EnrollmentTokens Read;
    EnrollmentTokensCreate = EnrollmentTokens Create;
    EnrollmentTokensDelete = EnrollmentTokens Delete;
    OwnApiTokensRead = OwnApiTokens Read;
    OwnApiTokensCreate = OwnApiTokens Create;
    OwnApiTokensDelete = OwnApiTokens Delete;
    UsersRead = Users Read;
    UsersCreate = Users Create;
    UsersUpdate = Users Update;
    UsersDelete = Users Delete;
    SystemRead = System Read;
    NotificationsRead = Notifications Read;
    NotificationsCreate = Notifications Create;
    NotificationsUpdate = Notifications Update;
    NotificationsDelete = Notifications Delete;
    ChangeRequestsRead = ChangeRequests Read;
    ChangeRequestsUpdate = ChangeRequests Update;
    ReportsRead = Reports Read;
    ReportSchedulesCreate = ReportSchedules Create;
    ReportSchedulesUpdate = ReportSchedules Update;
    ReportSchedulesDelete = ReportSchedules Delete;
    ComplianceRead = Compliance Read;
    ComplianceScan = Compliance Create;
    ExceptionsRead = Exceptions Read;
    ExceptionsRequest = Exceptions Create;
    ExceptionsDecide = Exceptions Update;
}

/// How the caller authenticated.
#[derive(Clone, Debug)]
pub enum Via {
    /// A login session; `id_hash` names it in the store.
    Session {
        id_hash: String,
        csrf_token: String,
    },
    ApiToken {
        token_id: String,
    },
}

/// An authenticated caller: the principal the decision function sees, and the user row
/// behind it.
#[derive(Clone, Debug)]
pub struct Caller {
    pub principal: Principal,
    pub user: User,
    pub via: Via,
}

impl Caller {
    /// Asks the decision function for a further permission (a handler acting on
    /// another user's object needs more than acting on its own).
    pub fn require(&self, permission: Permission, now: Millis) -> Result<(), ApiError> {
        match decide(&self.principal, permission, now.div_euclid(1000)) {
            Decision::Allow => Ok(()),
            Decision::Deny(reason) => Err(ApiError::Forbidden(reason)),
        }
    }
}

/// The request's caller, authenticated and allowed `P`.
#[derive(Debug)]
pub struct Authorized<P> {
    pub caller: Caller,
    _permission: PhantomData<P>,
}

impl<P> std::ops::Deref for Authorized<P> {
    type Target = Caller;
    fn deref(&self) -> &Caller {
        &self.caller
    }
}

impl<P: RequiredPermission> FromRequestParts<AppState> for Authorized<P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let now = state.now();
        let caller = authenticate(parts, state, now).await?;
        caller.require(P::PERMISSION, now)?;
        Ok(Authorized {
            caller,
            _permission: PhantomData,
        })
    }
}

/// Authenticated without a permission: only for a caller acting on their own session
/// (who am I, log out), which every authenticated person may do. The router walk test
/// lists the routes that use it.
#[derive(Debug)]
pub struct Authenticated(pub Caller);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let now = state.now();
        Ok(Authenticated(authenticate(parts, state, now).await?))
    }
}

async fn authenticate(parts: &Parts, state: &AppState, now: Millis) -> Result<Caller, ApiError> {
    let caller = if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let value = value.to_str().map_err(|_| ApiError::Unauthenticated)?;
        // The scheme name is case-insensitive (RFC 9110).
        let token = value
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|t| t.starts_with(API_TOKEN_PREFIX))
            .ok_or(ApiError::Unauthenticated)?;
        by_api_token(state, token, now).await?
    } else if let Some(session) = session_cookie(&parts.headers) {
        let caller = by_session(state, &session, now).await?;
        if let Via::Session { csrf_token, .. } = &caller.via
            && !is_safe(&parts.method)
        {
            let presented = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !constant_time_eq(presented, csrf_token) {
                return Err(ApiError::CsrfFailed);
            }
        }
        caller
    } else {
        return Err(ApiError::Unauthenticated);
    };
    tracing::Span::current().record("user", caller.user.name.as_str());
    Ok(caller)
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

async fn by_api_token(state: &AppState, token: &str, now: Millis) -> Result<Caller, ApiError> {
    let hash = sha256_hex(token);
    let row = match state.store().find_api_token(&hash, now).await {
        Ok(row) => row,
        Err(rampart_store::Error::NotFound { .. }) => return Err(ApiError::Unauthenticated),
        Err(e) => return Err(e.into()),
    };
    // The maximum lifetime holds for every token, also those issued without an expiry
    // before it existed or offline by `rampart admin create-token`.
    let max = i64::try_from(state.config().api_token_max_lifetime.as_millis()).unwrap_or(i64::MAX);
    if now.saturating_sub(row.created_at) >= max {
        return Err(ApiError::Unauthenticated);
    }
    let user = live_user(state, &row.user_id).await?;
    // Recording every use would make each read a write; a minute's precision is
    // enough to spot a stale or stolen token.
    if row.last_used_at.is_none_or(|t| now - t >= 60_000)
        && let Err(e) = state.store().touch_api_token(&row.id, now).await
    {
        tracing::warn!(error = %e, "could not record API token use");
    }
    let scope = row
        .scopes
        .iter()
        .filter_map(|s| s.parse::<Role>().ok())
        .collect();
    Ok(Caller {
        principal: Principal::user(
            user.name.clone(),
            roles_of(&user),
            Credential::ApiToken { scope },
        ),
        user,
        via: Via::ApiToken { token_id: row.id },
    })
}

async fn by_session(state: &AppState, session_id: &str, now: Millis) -> Result<Caller, ApiError> {
    let hash = sha256_hex(session_id);
    let (session, user) = match state.store().get_session(&hash, now).await {
        Ok(found) => found,
        Err(rampart_store::Error::NotFound { .. }) => return Err(ApiError::Unauthenticated),
        Err(e) => return Err(e.into()),
    };
    Ok(Caller {
        principal: Principal::user(user.name.clone(), roles_of(&user), Credential::Session),
        user,
        via: Via::Session {
            id_hash: session.id_hash,
            csrf_token: session.csrf_token,
        },
    })
}

async fn live_user(state: &AppState, id: &str) -> Result<User, ApiError> {
    match state.store().get_user(id).await {
        Ok(user) if user.disabled_at.is_none() => Ok(user),
        Ok(_) | Err(rampart_store::Error::NotFound { .. }) => Err(ApiError::Unauthenticated),
        Err(e) => Err(e.into()),
    }
}

/// A user's roles as the decision function knows them; an unknown stored role grants
/// nothing.
pub(crate) fn roles_of(user: &User) -> Vec<Role> {
    user.role.parse::<Role>().into_iter().collect()
}

/// The value of the session cookie, if the request carries one.
pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_session_cookie_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            "a=b; rampart_session=xyz; c=d".parse().unwrap(),
        );
        assert_eq!(session_cookie(&h).as_deref(), Some("xyz"));
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, "rampart_session=".parse().unwrap());
        assert_eq!(session_cookie(&h), None);
    }
}

/// The client's network address, as the TLS listener accepted the connection (`None`
/// for requests that did not come through it, such as in-process tests). Only the
/// login throttle uses it; nothing trusts `X-Forwarded-For`, which any client can set.
#[derive(Clone, Copy, Debug, Default)]
pub struct ClientAddr(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}
