//! Compliance pieces shared by the pages: how a host's state reads, the report
//! download links (they point at the API's report routes, which a session cookie
//! authenticates), the "scan now" form target and the notice a finished scan leaves.

use axum::extract::State;
use axum::response::Response;
use rampart_store::HostCompliance;

use super::text::datetime;
use super::{FormData, QueryPairs, WebAuthorized, WebResult, see_other};
use crate::AppState;
use crate::auth::{ComplianceScan, RequiredPermission};

/// A host's last evaluation as a page shows it: a word and a CSS class.
pub(crate) fn state_label(c: Option<&HostCompliance>) -> (&'static str, &'static str) {
    match c {
        None => ("not evaluated", "state-unknown"),
        Some(c) if c.stale => ("stale", "state-stale"),
        Some(c) if c.state == rampart_core::compliance::State::Compliant => {
            ("compliant", "state-ok")
        }
        Some(_) => ("non-compliant", "state-bad"),
    }
}

/// One download link.
pub(crate) struct ReportLink {
    /// `data-report` attribute: `compliance-csv`, `findings-pdf`, …
    pub(crate) id: String,
    pub(crate) label: String,
    pub(crate) href: String,
}

/// Links to the compliance and findings reports in CSV, JSON and PDF, for the estate
/// (`project` `None`) or one project. They are the API's own routes.
pub(crate) fn report_links(project: Option<&str>) -> Vec<ReportLink> {
    let mut links = Vec::new();
    for kind in ["compliance", "findings"] {
        for format in ["csv", "json", "pdf"] {
            let mut q = form_urlencoded::Serializer::new(String::new());
            if let Some(p) = project {
                q.append_pair("project", p);
            }
            q.append_pair("format", format);
            links.push(ReportLink {
                id: format!("{kind}-{format}"),
                label: format!("{} {}", capitalised(kind), format.to_uppercase()),
                href: format!("/api/v1/reports/{kind}?{}", q.finish()),
            });
        }
    }
    links
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_uppercase().chain(chars).collect::<String>()
    })
}

/// What a finished scan reports on the page it returns to (`?scan=<id>`).
pub(crate) async fn scan_notice(state: &AppState, query: &QueryPairs) -> Option<String> {
    let id = query.get("scan")?;
    let run = state.store().get_scan(id).await.ok()?;
    Some(match run.error {
        Some(error) => format!("Scan started {} failed: {error}", datetime(run.started_at)),
        None => format!(
            "Scan finished {}: {} host(s) evaluated, {} non-compliant.",
            datetime(run.finished_at.unwrap_or(run.started_at)),
            run.hosts,
            run.non_compliant
        ),
    })
}

/// The "scan now" button: re-matches findings and re-evaluates compliance for the
/// project named in the form (or the estate) through the API's own scan, then returns
/// to the page it came from with the result.
pub(super) async fn scan_now(
    auth: WebAuthorized<ComplianceScan>,
    State(state): State<AppState>,
    form: FormData,
) -> WebResult<Response> {
    let project = form.get("project").map(str::to_owned);
    let run = crate::api::compliance::scan(&state, &auth.caller, project).await?;
    let back = match &run.project_id {
        Some(id) => format!("/projects/{id}?scan={}", run.id),
        None => format!("/?scan={}", run.id),
    };
    Ok(see_other(&back))
}

/// Whether the caller may press "scan now".
pub(crate) fn may_scan<P>(auth: &WebAuthorized<P>, state: &AppState) -> bool {
    auth.may(state, ComplianceScan::PERMISSION)
}

#[cfg(test)]
mod tests {
    #[test]
    fn report_links_name_the_api_routes() {
        let estate = super::report_links(None);
        assert_eq!(estate.len(), 6);
        assert_eq!(estate[0].href, "/api/v1/reports/compliance?format=csv");
        assert_eq!(estate[0].label, "Compliance CSV");
        assert_eq!(estate[5].href, "/api/v1/reports/findings?format=pdf");
        let project = super::report_links(Some("a b"));
        assert_eq!(
            project[2].href,
            "/api/v1/reports/compliance?project=a+b&format=pdf"
        );
        assert_eq!(project[2].id, "compliance-pdf");
    }
}
