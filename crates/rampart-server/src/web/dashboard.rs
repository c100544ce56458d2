//! The dashboard: the estate at a glance — headline numbers (non-compliant hosts and
//! critical/high findings with exceptions applied, read exactly as
//! `GET /api/v1/compliance` reads them), compliance by project, the 30- and 90-day
//! trend and hosts by days since their packages last changed (SVG drawn here), the most
//! widespread vulnerable packages, report downloads and "scan now".
//!
//! The page is lists — [`Stat`]s, [`BarChart`]s, [`LineChart`]s and [`Panel`]s — so a
//! further figure is one `push`.

use askama::Template;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::response::Response;

use super::chart::{BarChart, LineChart};
use super::compliance::{ReportLink, may_scan, report_links, scan_notice};
use super::text::count;
use super::{Chrome, Html, QueryPairs, WebAuthorized, WebResult};
use crate::AppState;
use crate::api::compliance::{date_of_day, first_trend_day, summaries, trend_points};
use crate::auth::{ComplianceRead, FindingsRead, HostsRead, RequiredPermission};

/// A headline number linking to the listing behind it.
pub(crate) struct Stat {
    /// `data-stat` attribute: what tests and scripts read.
    pub(crate) id: &'static str,
    pub(crate) label: &'static str,
    /// The exact number (the `data-value` attribute).
    pub(crate) value: u64,
    /// The number as shown (`12,345`).
    pub(crate) shown: String,
    pub(crate) note: Option<String>,
    pub(crate) href: String,
    /// CSS class colouring the card: `critical`, `high`, `warn` or empty.
    pub(crate) tone: &'static str,
}

impl Stat {
    pub(crate) fn new(id: &'static str, label: &'static str, value: u64, href: &str) -> Stat {
        Stat {
            id,
            label,
            value,
            shown: count(value),
            note: None,
            href: href.to_owned(),
            tone: "",
        }
    }

    fn tone(mut self, tone: &'static str) -> Stat {
        self.tone = tone;
        self
    }

    fn note(mut self, note: String) -> Stat {
        self.note = Some(note);
        self
    }
}

/// A table cell: text, optionally a link and a CSS class (severity colours).
pub(crate) struct Cell {
    pub(crate) text: String,
    pub(crate) href: Option<String>,
    pub(crate) class: &'static str,
}

impl Cell {
    pub(crate) fn text(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            href: None,
            class: "",
        }
    }

    pub(crate) fn link(text: impl Into<String>, href: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            href: Some(href.into()),
            class: "",
        }
    }

    pub(crate) fn class(mut self, class: &'static str) -> Cell {
        self.class = class;
        self
    }
}

/// A titled table (`templates/panel.html`).
pub(crate) struct Panel {
    pub(crate) id: &'static str,
    pub(crate) title: String,
    pub(crate) headers: Vec<&'static str>,
    pub(crate) rows: Vec<Vec<Cell>>,
    /// Shown instead of an empty table.
    pub(crate) empty: &'static str,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    notice: Option<String>,
    stats: Vec<Stat>,
    trends: Vec<LineChart>,
    charts: Vec<BarChart>,
    panels: Vec<Panel>,
    reports: Vec<ReportLink>,
    may_scan: bool,
}

/// The trend windows drawn (days).
const TREND_WINDOWS: [(&str, u32); 2] = [("trend_30", 30), ("trend_90", 90)];

/// Upper bounds (days) of the update-age buckets; one more bucket holds the rest.
const AGE_BOUNDS: [i64; 4] = [7, 30, 90, 180];
const AGE_LABELS: [&str; 5] = ["≤ 7 d", "8–30 d", "31–90 d", "91–180 d", "> 180 d"];
/// How many packages the "most widespread" table lists.
const TOP_PACKAGES: u32 = 10;

pub(super) async fn show(
    auth: WebAuthorized<HostsRead>,
    State(state): State<AppState>,
    query: QueryPairs,
) -> WebResult<Response> {
    auth.caller.require(FindingsRead::PERMISSION, state.now())?;
    auth.caller
        .require(ComplianceRead::PERMISSION, state.now())?;
    // First, as the API does: refresh the due snapshots, then read them.
    let compliance = summaries(&state, None).await?;
    let now = compliance.evaluated_at;
    let store = state.store();
    let estate = compliance.estate;
    let over_threshold = store.hosts_with_reason(None, "not_updated").await?;
    let summary = store.estate_summary().await?;
    let ages = store.hosts_by_update_age(now, &AGE_BOUNDS).await?;
    let top = store.top_vulnerable_packages(TOP_PACKAGES).await?;

    let stats = vec![
        Stat::new("hosts", "Hosts", summary.hosts, "/hosts"),
        Stat::new(
            "non_compliant",
            "Non-compliant hosts",
            estate.non_compliant,
            "/hosts?compliance=non_compliant",
        )
        .tone(if estate.non_compliant > 0 {
            "critical"
        } else {
            ""
        })
        .note(format!(
            "{} compliant, {} stale, {} not evaluated yet",
            count(estate.compliant),
            count(estate.stale),
            count(estate.hosts - estate.evaluated.min(estate.hosts))
        )),
        Stat::new(
            "over_threshold",
            "Hosts over the update alert threshold",
            over_threshold,
            "/hosts?sort=updated&dir=asc",
        )
        .tone(if over_threshold > 0 { "warn" } else { "" })
        .note("no package change for longer than their standard allows".into()),
        Stat::new(
            "hosts_with_critical",
            "Hosts with critical findings",
            summary.hosts_with_critical,
            "/hosts?critical=1",
        )
        .tone(if summary.hosts_with_critical > 0 {
            "critical"
        } else {
            ""
        }),
        Stat::new(
            "critical",
            "Critical findings",
            estate.critical,
            "/hosts?critical=1&sort=critical&dir=desc",
        )
        .tone("critical")
        .note(excepted_note(summary.findings.critical, estate.critical)),
        Stat::new(
            "high",
            "High findings",
            estate.high,
            "/hosts?sort=critical&dir=desc",
        )
        .tone("high")
        .note(excepted_note(summary.findings.high, estate.high)),
        Stat::new(
            "security_updates",
            "Pending security updates",
            summary.pending_security_updates,
            "/hosts?sort=updated&dir=asc",
        )
        .tone("warn")
        .note(format!(
            "on {} hosts; {} updates pending in all",
            count(summary.hosts_with_security_updates),
            count(summary.pending_updates)
        )),
    ];

    let mut data: Vec<(String, u64, Option<String>)> = AGE_LABELS
        .iter()
        .zip(&ages.counts)
        .map(|(label, n)| ((*label).to_owned(), *n, None))
        .collect();
    data.push(("never".to_owned(), ages.never, None));
    let charts = vec![BarChart::new(
        "update_age",
        "Hosts by days since last update",
        "Number of hosts by whole days since their installed packages last changed",
        data,
    )];
    let mut trends = Vec::new();
    for (id, days) in TREND_WINDOWS {
        let points = trend_points(&state, None, days).await?;
        trends.push(LineChart::new(
            id,
            format!("Trend, last {days} days"),
            format!(
                "Non-compliant hosts and open critical findings per day over the last {days} days"
            ),
            first_trend_day(now, days),
            days,
            vec![
                (
                    "non_compliant",
                    "Non-compliant hosts",
                    points.iter().map(|p| (p.day, p.non_compliant)).collect(),
                ),
                (
                    "critical",
                    "Critical findings",
                    points.iter().map(|p| (p.day, p.critical)).collect(),
                ),
            ],
            date_of_day,
        ));
    }

    let panels = vec![
        Panel {
            id: "compliance_by_project",
            title: "Compliance by project".into(),
            headers: vec![
                "Project",
                "Hosts",
                "Compliant",
                "Non-compliant",
                "Stale",
                "Critical",
            ],
            rows: compliance
                .projects
                .into_iter()
                .map(|(p, c)| {
                    let hosts = format!("/hosts?project={}", p.id);
                    vec![
                        Cell::link(p.name, format!("/projects/{}", p.id)),
                        Cell::link(count(c.hosts), hosts.clone()).class("num"),
                        Cell::link(count(c.compliant), format!("{hosts}&compliance=compliant"))
                            .class("num"),
                        Cell::link(
                            count(c.non_compliant),
                            format!("{hosts}&compliance=non_compliant"),
                        )
                        .class(if c.non_compliant > 0 {
                            "num sev-critical"
                        } else {
                            "num"
                        }),
                        Cell::link(count(c.stale), format!("{hosts}&compliance=stale"))
                            .class("num"),
                        Cell::text(count(c.critical)).class("num"),
                    ]
                })
                .collect(),
            empty: "No project yet.",
        },
        Panel {
            id: "top_packages",
            title: "Most widespread vulnerable packages".into(),
            headers: vec!["Package", "Hosts", "Findings", "Advisories", "Worst"],
            rows: top
                .into_iter()
                .map(|p| {
                    vec![
                        Cell::text(p.package),
                        Cell::text(count(p.hosts)).class("num"),
                        Cell::text(count(p.findings)).class("num"),
                        Cell::text(count(p.advisories)).class("num"),
                        Cell::text(p.worst.as_str()).class(super::hosts::severity_class(p.worst)),
                    ]
                })
                .collect(),
            empty: "No open findings.",
        },
    ];

    Ok(Html(DashboardPage {
        chrome: auth.chrome(&state, "/"),
        notice: scan_notice(&state, &query).await,
        may_scan: may_scan(&auth, &state),
        stats,
        trends,
        charts,
        panels,
        reports: report_links(None),
    })
    .into_response())
}

/// "3 more accepted by exceptions" when exceptions hide some of `all`.
fn excepted_note(all: u64, open: u64) -> String {
    match all.saturating_sub(open) {
        0 => "exceptions applied".into(),
        n => format!("{} more accepted by exceptions", count(n)),
    }
}
