//! One advisory: what it says (aliases, severity, affected packages and ranges) and
//! every host with an open finding for it, page by page.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use rampart_core::advisory::Event;
use rampart_store::{FindingFilter, HostFilter, Page};

use super::hosts::{Pager, page_window, severity_class};
use super::text::{count, counted, datetime};
use super::{Chrome, Html, QueryPairs, WebAuthorized, WebError, WebResult};
use crate::AppState;
use crate::auth::{AdvisoriesRead, FindingsRead, RequiredPermission};

/// Affected (host, package) rows per page.
const PAGE_SIZE: u32 = 100;

struct AffectedRow {
    ecosystem: String,
    package: String,
    ranges: String,
}

struct HostFindingRow {
    host_id: String,
    hostname: String,
    package: String,
    installed: String,
    fixed: String,
    first_seen: String,
}

#[derive(Template)]
#[template(path = "advisory.html")]
struct AdvisoryPage {
    chrome: Chrome,
    id: String,
    summary: String,
    aliases: String,
    severity: &'static str,
    class: &'static str,
    cvss: String,
    published: String,
    modified: String,
    withdrawn: String,
    affected: Vec<AffectedRow>,
    hosts_total: String,
    /// "3 vulnerable installations": the rows below (and the pager) count host ×
    /// package, the heading counts hosts; both numbers shown, each with its unit.
    packages_total: String,
    rows: Vec<HostFindingRow>,
    pager: Pager,
}

fn ranges(a: &rampart_core::advisory::Affected) -> String {
    let mut parts: Vec<String> = a
        .ranges
        .iter()
        .map(|r| {
            r.events
                .iter()
                .map(|e| match e {
                    Event::Introduced(v) => format!("introduced {v}"),
                    Event::Fixed(v) => format!("fixed {v}"),
                    Event::LastAffected(v) => format!("last affected {v}"),
                    Event::Limit(v) => format!("limit {v}"),
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .collect();
    if !a.versions.is_empty() {
        parts.push(format!("versions {}", a.versions.join(", ")));
    }
    parts.join("; ")
}

pub(super) async fn show(
    auth: WebAuthorized<AdvisoriesRead>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: QueryPairs,
) -> WebResult<Response> {
    auth.caller.require(FindingsRead::PERMISSION, state.now())?;
    let store = state.store();
    let advisory = match store.get_advisory(&id).await {
        Ok(a) => a,
        Err(rampart_store::Error::NotFound { .. }) => {
            return Err(WebError::NotFound("advisory".into()));
        }
        Err(e) => return Err(e.into()),
    };
    let hosts = store
        .list_hosts(
            &HostFilter {
                advisory: Some(advisory.id.clone()),
                ..HostFilter::default()
            },
            Page {
                limit: 0,
                offset: 0,
            },
        )
        .await?;
    let number = query.page_number();
    let findings = store
        .list_findings(
            &FindingFilter {
                advisory: Some(advisory.id.clone()),
                ..FindingFilter::default()
            },
            page_window(number, PAGE_SIZE),
        )
        .await?;
    let base = format!(
        "/advisories/{}",
        form_urlencoded::byte_serialize(advisory.id.as_bytes()).collect::<String>()
    );
    let pager = Pager::new(findings.total, number, PAGE_SIZE, |n| {
        format!("{base}?page={n}")
    });
    let level = advisory.severity.level;
    Ok(Html(AdvisoryPage {
        chrome: auth.chrome(&state, ""),
        summary: advisory.summary.clone().unwrap_or_default(),
        aliases: advisory.aliases.join(", "),
        severity: level.as_str(),
        class: severity_class(level),
        cvss: advisory
            .severity
            .cvss
            .map_or_else(String::new, |c| format!("{c:.1}")),
        published: advisory.published.clone().unwrap_or_default(),
        modified: advisory.modified.clone().unwrap_or_default(),
        withdrawn: advisory.withdrawn.clone().unwrap_or_default(),
        affected: advisory
            .affected
            .iter()
            .map(|a| AffectedRow {
                ecosystem: a.ecosystem.clone(),
                package: a.package.clone(),
                ranges: ranges(a),
            })
            .collect(),
        hosts_total: count(hosts.total),
        packages_total: counted(
            findings.total,
            "vulnerable installation",
            "vulnerable installations",
        ),
        rows: findings
            .items
            .into_iter()
            .map(|h| HostFindingRow {
                host_id: h.host_id,
                hostname: h.hostname,
                package: h.finding.package,
                installed: h.finding.installed,
                fixed: h.finding.fixed.unwrap_or_else(|| "no fix yet".into()),
                first_seen: datetime(h.first_seen),
            })
            .collect(),
        pager,
        id: advisory.id,
    })
    .into_response())
}
