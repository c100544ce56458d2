//! The dashboard: the estate at a glance — headline numbers, hosts by days since their
//! packages last changed (SVG), and the most widespread vulnerable packages.
//!
//! The page is three lists — [`Stat`]s, [`BarChart`]s and [`Panel`]s — so further
//! figures are one `push` each. EXTENSION POINTS for the compliance slice are marked
//! `EXTENSION POINT` below and in `templates/dashboard.html`.

use askama::Template;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::response::Response;

use super::chart::BarChart;
use super::text::count;
use super::{Chrome, Html, WebAuthorized, WebResult};
use crate::AppState;
use crate::auth::{FindingsRead, HostsRead, RequiredPermission};

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
    stats: Vec<Stat>,
    charts: Vec<BarChart>,
    panels: Vec<Panel>,
}

/// Upper bounds (days) of the update-age buckets; one more bucket holds the rest.
const AGE_BOUNDS: [i64; 4] = [7, 30, 90, 180];
const AGE_LABELS: [&str; 5] = ["≤ 7 d", "8–30 d", "31–90 d", "91–180 d", "> 180 d"];
/// How many packages the "most widespread" table lists.
const TOP_PACKAGES: u32 = 10;

pub(super) async fn show(
    auth: WebAuthorized<HostsRead>,
    State(state): State<AppState>,
) -> WebResult<Response> {
    auth.caller.require(FindingsRead::PERMISSION, state.now())?;
    let now = state.now();
    let store = state.store();
    let summary = store.estate_summary().await?;
    let ages = store.hosts_by_update_age(now, &AGE_BOUNDS).await?;
    let top = store.top_vulnerable_packages(TOP_PACKAGES).await?;

    let stats = vec![
        Stat::new("hosts", "Hosts", summary.hosts, "/hosts"),
        // EXTENSION POINT (compliance): Stat::new("non_compliant", "Non-compliant
        // hosts", n, "/hosts?compliance=non_compliant").tone("critical"), and "Hosts
        // over the alert threshold" from the project standards.
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
            summary.findings.critical,
            "/hosts?critical=1&sort=critical&dir=desc",
        )
        .tone("critical"),
        Stat::new(
            "high",
            "High findings",
            summary.findings.high,
            "/hosts?sort=critical&dir=desc",
        )
        .tone("high"),
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
    let charts = vec![
        BarChart::new(
            "update_age",
            "Hosts by days since last update",
            "Number of hosts by whole days since their installed packages last changed",
            data,
        ),
        // EXTENSION POINT (compliance): the 30- and 90-day trend of non-compliant hosts
        // and open findings, one BarChart each, from the compliance slice's trend table.
    ];

    let panels = vec![
        // EXTENSION POINT (compliance): a "Compliance by project" Panel (project,
        // hosts, compliant, non-compliant, top reason), linking to /projects/{id}.
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
        stats,
        charts,
        panels,
    })
    .into_response())
}
