//! A tiny Prometheus registry: request counts and latency histograms by route and
//! status, plus estate gauges read from the store at scrape time. Hand-written because
//! the exporter crates bring an HTTP stack of their own; this is all the server needs.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// Request statistics keyed by (method, route template, status). Route templates
/// (`/api/v1/hosts/{id}`), never raw paths, so the label set stays bounded.
#[derive(Default)]
pub(crate) struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), Series>>,
}

impl Metrics {
    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut map = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        let s = map
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default();
        s.count += 1;
        s.sum += seconds;
        for (i, le) in BUCKETS.iter().enumerate() {
            if seconds <= *le {
                s.buckets[i] += 1;
            }
        }
    }

    fn render_requests(&self, out: &mut String) {
        let map = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        out.push_str("# HELP rampart_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE rampart_http_requests_total counter\n");
        for ((m, r, st), s) in map.iter() {
            let _ = writeln!(
                out,
                "rampart_http_requests_total{{method=\"{m}\",route=\"{}\",status=\"{st}\"}} {}",
                escape(r),
                s.count
            );
        }
        out.push_str("# HELP rampart_http_request_duration_seconds HTTP request latency.\n");
        out.push_str("# TYPE rampart_http_request_duration_seconds histogram\n");
        for ((m, r, st), s) in map.iter() {
            let labels = format!("method=\"{m}\",route=\"{}\",status=\"{st}\"", escape(r));
            for (i, le) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "rampart_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "rampart_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "rampart_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "rampart_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Middleware: times each request and records it under its route template.
pub(crate) async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    // Standard methods only: a client-invented method must not mint a new series
    // (memory grows with every distinct label value).
    let method = match *req.method() {
        Method::GET
        | Method::POST
        | Method::PUT
        | Method::PATCH
        | Method::DELETE
        | Method::HEAD
        | Method::OPTIONS => req.method().as_str().to_owned(),
        _ => "other".to_owned(),
    };
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = next.run(req).await;
    state.metrics().observe(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// The full exposition: request series plus gauges about the estate.
pub(crate) async fn render(state: &AppState) -> Result<String, rampart_store::Error> {
    use rampart_core::severity::SeverityLevel;
    use rampart_store::{FindingFilter, HostFilter, Page};
    let mut out = String::new();
    state.metrics().render_requests(&mut out);
    let none = Page {
        limit: 0,
        offset: 0,
    };
    let hosts = state
        .store()
        .list_hosts(&HostFilter::default(), none)
        .await?
        .total;
    out.push_str("# HELP rampart_hosts Enrolled hosts.\n# TYPE rampart_hosts gauge\n");
    let _ = writeln!(out, "rampart_hosts {hosts}");
    out.push_str(
        "# HELP rampart_findings Open findings by severity.\n# TYPE rampart_findings gauge\n",
    );
    for level in [
        SeverityLevel::Critical,
        SeverityLevel::High,
        SeverityLevel::Medium,
        SeverityLevel::Low,
        SeverityLevel::Unknown,
    ] {
        let filter = FindingFilter {
            severity: Some(level),
            ..FindingFilter::default()
        };
        let n = state.store().list_findings(&filter, none).await?.total;
        let _ = writeln!(
            out,
            "rampart_findings{{severity=\"{}\"}} {n}",
            level.as_str()
        );
    }
    out.push_str("# HELP rampart_advisories Advisories in the matcher's index.\n# TYPE rampart_advisories gauge\n");
    let _ = writeln!(out, "rampart_advisories {}", state.engine().index().len());
    Ok(out)
}
