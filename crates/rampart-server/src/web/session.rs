//! Logging in and out in a browser, and the first-admin set-up form, over the same
//! password check, session creation and bootstrap secret as `/api/v1/session` and
//! `/api/v1/bootstrap`.
//!
//! The login and set-up forms are posted before any session exists, so they carry a
//! double-submit token instead: a random value in a `SameSite=Strict` cookie and in the
//! form, which must agree. A cross-site page can neither read the cookie nor make the
//! browser send it, so it cannot log a victim into an account of its choosing.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{
    CSRF_FIELD, FormData, Html, QueryPairs, WebAuthenticated, WebError, WebResult, local_path,
    see_other, stylesheet_href,
};
use crate::api::{bootstrap, session};
use crate::auth::{ClientAddr, Via};
use crate::secrets::{constant_time_eq, random_secret};
use crate::{ApiError, AppState};

/// The double-submit cookie of the login and set-up forms.
const FORM_COOKIE: &str = "rampart_form";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    css: &'static str,
    csrf: String,
    next: String,
    name: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    css: &'static str,
    csrf: String,
    name: String,
    error: Option<String>,
}

fn form_cookie(state: &AppState, value: &str, max_age: u32) -> String {
    format!(
        "{FORM_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        if state.config().secure_cookies {
            "; Secure"
        } else {
            ""
        }
    )
}

/// `page` with the double-submit `token` set in the cookie too.
fn with_form_token(
    state: &AppState,
    status: StatusCode,
    token: &str,
    page: impl Template,
) -> Response {
    let mut response = (status, Html(page)).into_response();
    if let Ok(v) = HeaderValue::from_str(&form_cookie(state, token, 3600)) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

/// Whether the form's token equals the cookie's.
fn form_token_ok(headers: &HeaderMap, form: &FormData) -> bool {
    match (cookie(headers, FORM_COOKIE), form.get(CSRF_FIELD)) {
        (Some(cookie), Some(field)) => constant_time_eq(cookie, field),
        _ => false,
    }
}

fn login_page(
    state: &AppState,
    status: StatusCode,
    next: &str,
    name: &str,
    error: Option<&str>,
) -> Response {
    let token = random_secret();
    let page = LoginPage {
        css: stylesheet_href(),
        csrf: token.clone(),
        next: local_path(next).unwrap_or("/").to_owned(),
        name: name.to_owned(),
        error: error.map(str::to_owned),
    };
    with_form_token(state, status, &token, page)
}

fn setup_page(state: &AppState, status: StatusCode, name: &str, error: Option<String>) -> Response {
    let token = random_secret();
    let page = SetupPage {
        css: stylesheet_href(),
        csrf: token.clone(),
        name: name.to_owned(),
        error,
    };
    with_form_token(state, status, &token, page)
}

/// The login form; the set-up form instead while no user exists.
pub(super) async fn login_form(State(state): State<AppState>, query: QueryPairs) -> Response {
    if bootstrap::pending(&state).await {
        return see_other("/setup");
    }
    login_page(
        &state,
        StatusCode::OK,
        query.get("next").unwrap_or("/"),
        "",
        None,
    )
}

/// Checks the password, starts a session and goes to `next` (a local path) or the
/// dashboard.
pub(super) async fn login(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    form: FormData,
) -> WebResult<Response> {
    let next = form
        .get("next")
        .and_then(local_path)
        .unwrap_or("/")
        .to_owned();
    let name = form.get("name").unwrap_or("").to_owned();
    if !form_token_ok(&headers, &form) {
        return Ok(login_page(
            &state,
            StatusCode::FORBIDDEN,
            &next,
            &name,
            Some("The form expired. Please log in again."),
        ));
    }
    let password = form.raw("password").unwrap_or("").to_owned();
    let user = match session::check_password(&state, &name, password, client).await {
        Ok(user) => user,
        Err(ApiError::TooManyAttempts(secs)) => {
            let mut page = login_page(
                &state,
                StatusCode::TOO_MANY_REQUESTS,
                &next,
                &name,
                Some(&format!(
                    "Too many failed logins. Try again in {secs} seconds."
                )),
            );
            page.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(secs),
            );
            return Ok(page);
        }
        Err(ApiError::Unauthenticated) => {
            return Ok(login_page(
                &state,
                StatusCode::UNAUTHORIZED,
                &next,
                &name,
                Some("Wrong name or password."),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let started = session::start(&state, &user).await?;
    let mut response = see_other(&next);
    for value in [started.cookie, form_cookie(&state, "", 0)] {
        response.headers_mut().append(
            header::SET_COOKIE,
            HeaderValue::from_str(&value).map_err(ApiError::internal)?,
        );
    }
    Ok(response)
}

/// The first-admin form, only while the server waits for one.
pub(super) async fn setup_form(State(state): State<AppState>) -> Response {
    if !bootstrap::pending(&state).await {
        return see_other("/login");
    }
    setup_page(&state, StatusCode::OK, "", None)
}

/// Creates the first admin with the bootstrap secret the server printed, then logs
/// them in.
pub(super) async fn setup(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: FormData,
) -> WebResult<Response> {
    let name = form.get("name").unwrap_or("").to_owned();
    if !bootstrap::pending(&state).await {
        return Ok(see_other("/login"));
    }
    let refuse =
        |status, message: &str| Ok(setup_page(&state, status, &name, Some(message.into())));
    if !form_token_ok(&headers, &form) {
        return refuse(StatusCode::FORBIDDEN, "The form expired. Please try again.");
    }
    let password = form.raw("password").unwrap_or("").to_owned();
    if form.raw("password_again").unwrap_or("") != password {
        return refuse(StatusCode::BAD_REQUEST, "The two passwords differ.");
    }
    let secret = form.get("secret").unwrap_or("");
    let user = match bootstrap::create_first_admin(&state, secret, &name, password).await {
        Ok(user) => user,
        Err(ApiError::Unauthenticated) => {
            return refuse(
                StatusCode::UNAUTHORIZED,
                "That is not the set-up secret the server printed.",
            );
        }
        Err(ApiError::BadRequest(message)) => return refuse(StatusCode::BAD_REQUEST, &message),
        Err(ApiError::Conflict(_)) => return Ok(see_other("/login")),
        Err(e) => return Err(e.into()),
    };
    let started = session::start(&state, &user).await?;
    let mut response = see_other("/");
    for value in [started.cookie, form_cookie(&state, "", 0)] {
        response.headers_mut().append(
            header::SET_COOKIE,
            HeaderValue::from_str(&value).map_err(ApiError::internal)?,
        );
    }
    Ok(response)
}

/// Ends the session (the form carries its CSRF token) and returns to the login form.
pub(super) async fn logout(
    State(state): State<AppState>,
    WebAuthenticated(caller): WebAuthenticated,
) -> WebResult<Response> {
    let Via::Session { id_hash, .. } = &caller.via else {
        return Err(WebError::BadRequest(
            "This request is authenticated by an API token, not a session.".into(),
        ));
    };
    let clear = session::end(&state, id_hash).await?;
    let mut response = see_other("/login");
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&clear).map_err(ApiError::internal)?,
    );
    Ok(response)
}
