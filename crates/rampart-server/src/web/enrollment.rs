//! Enrolment tokens: the list, and the form that issues one and shows it exactly once
//! (the store keeps only its hash; the response is `no-store`).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::text::datetime;
use super::{Chrome, FormData, Html, WebAuthorized, WebResult};
use crate::auth::{EnrollmentTokensCreate, EnrollmentTokensRead, RequiredPermission};
use crate::{ApiError, AppState};

struct TokenRow {
    id: String,
    project: String,
    labels: String,
    created_at: String,
    expires_at: String,
    uses: String,
    status: &'static str,
}

struct ProjectChoice {
    id: String,
    name: String,
    selected: bool,
}

/// The token just issued, shown once.
struct Issued {
    token: String,
    expires_at: String,
    max_uses: i64,
}

#[derive(Template)]
#[template(path = "enrollment.html")]
struct EnrollmentPage {
    chrome: Chrome,
    may_create: bool,
    projects: Vec<ProjectChoice>,
    tokens: Vec<TokenRow>,
    issued: Option<Issued>,
    error: Option<String>,
    /// The form's values, echoed after a refused submission.
    labels: String,
    hours: String,
    max_uses: String,
}

async fn page(
    auth: &WebAuthorized<impl RequiredPermission>,
    state: &AppState,
    issued: Option<Issued>,
    error: Option<String>,
    form: Option<&FormData>,
) -> WebResult<EnrollmentPage> {
    let now = state.now();
    let projects = state.store().list_projects().await?;
    let names: BTreeMap<String, String> = projects
        .iter()
        .map(|p| (p.id.clone(), p.name.clone()))
        .collect();
    let chosen = form.and_then(|f| f.get("project")).unwrap_or("");
    let tokens = state
        .store()
        .list_enrolment_tokens()
        .await?
        .into_iter()
        .map(|t| TokenRow {
            project: t
                .project_id
                .as_ref()
                .and_then(|id| names.get(id).cloned())
                .unwrap_or_default(),
            labels: t
                .labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", "),
            created_at: datetime(t.created_at),
            expires_at: datetime(t.expires_at),
            uses: format!("{} / {}", t.uses, t.max_uses),
            status: if t.revoked_at.is_some() {
                "revoked"
            } else if t.expires_at <= now {
                "expired"
            } else if t.uses >= t.max_uses {
                "used up"
            } else {
                "usable"
            },
            id: t.id,
        })
        .collect();
    Ok(EnrollmentPage {
        chrome: auth.chrome(state, "/enrollment-tokens"),
        may_create: auth.may(state, EnrollmentTokensCreate::PERMISSION),
        projects: projects
            .into_iter()
            .map(|p| ProjectChoice {
                selected: p.id == chosen,
                id: p.id,
                name: p.name,
            })
            .collect(),
        tokens,
        issued,
        error,
        labels: form.and_then(|f| f.get("labels")).unwrap_or("").to_owned(),
        hours: form.and_then(|f| f.get("hours")).unwrap_or("24").to_owned(),
        max_uses: form
            .and_then(|f| f.get("max_uses"))
            .unwrap_or("1")
            .to_owned(),
    })
}

pub(super) async fn show(
    auth: WebAuthorized<EnrollmentTokensRead>,
    State(state): State<AppState>,
) -> WebResult<Response> {
    Ok(Html(page(&auth, &state, None, None, None).await?).into_response())
}

/// `key=value` lines (or comma-separated) into labels.
fn parse_labels(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut labels = BTreeMap::new();
    for item in text
        .split(['\n', ','])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        match item.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                labels.insert(k.trim().to_owned(), v.trim().to_owned());
            }
            _ => return Err(format!("Label {item:?} must read key=value.")),
        }
    }
    Ok(labels)
}

/// The form again, with what was wrong, as a 400.
async fn refused(
    auth: &WebAuthorized<EnrollmentTokensCreate>,
    state: &AppState,
    form: &FormData,
    message: String,
) -> WebResult<Response> {
    let page = page(auth, state, None, Some(message), Some(form)).await?;
    Ok((StatusCode::BAD_REQUEST, Html(page)).into_response())
}

pub(super) async fn create(
    auth: WebAuthorized<EnrollmentTokensCreate>,
    State(state): State<AppState>,
    form: FormData,
) -> WebResult<Response> {
    let labels = match parse_labels(form.get("labels").unwrap_or("")) {
        Ok(labels) => labels,
        Err(message) => return refused(&auth, &state, &form, message).await,
    };
    let Some(hours) = form.get("hours").unwrap_or("24").parse::<u64>().ok() else {
        return refused(
            &auth,
            &state,
            &form,
            "The lifetime is a whole number of hours.".into(),
        )
        .await;
    };
    let Some(max_uses) = form.get("max_uses").unwrap_or("1").parse::<u32>().ok() else {
        return refused(&auth, &state, &form, "Uses is a whole number.".into()).await;
    };
    let issued = crate::api::enrollment_tokens::issue(
        &state,
        &auth.caller.user.name,
        form.get("project").map(str::to_owned),
        &labels,
        Some(hours.saturating_mul(3600)),
        Some(max_uses),
    )
    .await;
    let (token, record) = match issued {
        Ok(done) => done,
        Err(ApiError::BadRequest(message) | ApiError::NotFound(message)) => {
            return refused(&auth, &state, &form, message).await;
        }
        Err(e) => return Err(e.into()),
    };
    let issued = Issued {
        token,
        expires_at: datetime(record.expires_at),
        max_uses: record.max_uses,
    };
    let page = page(&auth, &state, Some(issued), None, None).await?;
    Ok((StatusCode::CREATED, Html(page)).into_response())
}
