//! The compliance engine: gathers each host's facts from the store, asks
//! `rampart_core::compliance::evaluate`, stores the snapshot and tells what changed.
//!
//! When it runs:
//! - [`ComplianceEngine::after_inventory`]: the agent check-in handler, after a new
//!   inventory was stored (packages, updates or facts changed).
//! - [`ComplianceEngine::evaluate_all`]: after a feed import (findings changed).
//! - [`ComplianceEngine::mark_due`] then [`ComplianceEngine::refresh_due`]: after a
//!   standard, software policy or exception changed (the API marks the hosts it
//!   touches and wakes the scheduler, which evaluates them at once; reads refresh a
//!   few due hosts themselves before answering, so a small estate sees its own writes).
//! - [`ComplianceEngine::tick`] (every minute from [`run_scheduler`]): hosts whose
//!   answer changes with time alone (`next_evaluation_at` reached: an update became
//!   overdue, a host went stale, an exception expired) or that came back after being
//!   stale; each project's full re-evaluation on its standard's schedule (weekly by
//!   default) and the estate's; today's trend rows; exceptions expiring soon.
//! - [`ComplianceEngine::scan`]: a full re-evaluation (findings re-matched, then
//!   compliance) of a project or the estate — the scheduled one and "scan now".
//!
//! Every path returns the [`ComplianceTransition`]s it caused and also publishes them
//! on a broadcast channel ([`ComplianceEngine::subscribe`]), the seam for notifications:
//! a host became non-compliant, compliant again, stale, or an exception expires soon.
//! Evaluations are serialised by one mutex, so two paths never write a host's snapshot
//! out of order.

use std::time::Duration;

use rampart_core::change_request::{ChangeRequestItem, OverdueUpdate};
use rampart_core::compliance::{
    Compliance, DAY, FindingFact, HostFacts, PendingUpdateFact, Reason, Standard, State,
    UnauthorizedFact, evaluate,
};
use rampart_core::exceptions::ExceptionScope;
use rampart_proto::UpdateCategory;
use rampart_store::{
    ExceptionRecord, Host, HostFilter, InventoryOutcome, Millis, NewUnauthorized, Page, ScanRun,
    ScanTrigger, Store, TrendPoint, UnauthorizedFilter,
};
use serde::Serialize;
use tokio::sync::broadcast;

use crate::findings_engine::FindingsEngine;

/// How long before its expiry an approved exception is announced.
pub const EXCEPTION_EXPIRY_NOTICE: Millis = 7 * DAY;

/// Hosts a read request refreshes at most before answering; the scheduler does the rest
/// (woken at once by [`ComplianceEngine::mark_due`]). Small enough that a read stays
/// interactive when a change made a whole large project due (each evaluation is a few
/// milliseconds), large enough that on a small estate every read sees its own writes.
pub const READ_REFRESH_LIMIT: u32 = 32;

/// Something worth telling people, caused by an evaluation or by time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ComplianceTransition {
    /// Compliant (or never evaluated) before, non-compliant now.
    BecameNonCompliant {
        host_id: String,
        hostname: String,
        reasons: Vec<Reason>,
        at: Millis,
    },
    /// Non-compliant before, compliant now.
    BecameCompliant {
        host_id: String,
        hostname: String,
        at: Millis,
    },
    /// The agent stopped checking in (announced once per stale spell).
    BecameStale {
        host_id: String,
        hostname: String,
        last_seen: Millis,
        at: Millis,
    },
    /// An approved exception expires within [`EXCEPTION_EXPIRY_NOTICE`] (announced once).
    ExceptionExpiring {
        exception_id: String,
        advisory: String,
        scope: ExceptionScope,
        expires_at: Millis,
        requested_by: String,
    },
}

/// What a [`ComplianceEngine::tick`] did.
#[derive(Clone, Debug, Default)]
pub struct TickReport {
    pub evaluated: u64,
    pub scans: Vec<ScanRun>,
    pub transitions: Vec<ComplianceTransition>,
}

/// See the module documentation.
pub struct ComplianceEngine {
    store: Store,
    evaluate: tokio::sync::Mutex<()>,
    events: broadcast::Sender<ComplianceTransition>,
    /// Wakes [`run_scheduler`] when [`ComplianceEngine::mark_due`] made hosts due.
    due: tokio::sync::Notify,
}

impl ComplianceEngine {
    pub fn new(store: Store) -> ComplianceEngine {
        let (events, _) = broadcast::channel(1024);
        ComplianceEngine {
            store,
            evaluate: tokio::sync::Mutex::new(()),
            events,
            due: tokio::sync::Notify::new(),
        }
    }

    /// Every transition from now on, from every path (lagging receivers lose the
    /// oldest; the snapshots in the store stay the truth).
    pub fn subscribe(&self) -> broadcast::Receiver<ComplianceTransition> {
        self.events.subscribe()
    }

    /// The check-in seam: re-evaluates `host_id` when a new inventory was stored.
    pub async fn after_inventory(
        &self,
        host_id: &str,
        outcome: InventoryOutcome,
        now: Millis,
    ) -> Result<Vec<ComplianceTransition>, rampart_store::Error> {
        match outcome {
            InventoryOutcome::Stored { .. } => Ok(self.evaluate_host(host_id, now).await?.1),
            InventoryOutcome::Unchanged => Ok(Vec::new()),
        }
    }

    /// Evaluates one host at `now`: refreshes its pending-since times and unauthorized
    /// packages, evaluates, stores the snapshot. Returns the answer and the transitions.
    pub async fn evaluate_host(
        &self,
        host_id: &str,
        now: Millis,
    ) -> Result<(Compliance, Vec<ComplianceTransition>), rampart_store::Error> {
        let _guard = self.evaluate.lock().await;
        self.evaluate_locked(host_id, now).await
    }

    async fn evaluate_locked(
        &self,
        host_id: &str,
        now: Millis,
    ) -> Result<(Compliance, Vec<ComplianceTransition>), rampart_store::Error> {
        let store = &self.store;
        let host = store.get_host(host_id).await?;
        let project_ids = store
            .host_project_ids(std::slice::from_ref(&host.id))
            .await?
            .remove(&host.id)
            .unwrap_or_default();
        let standard = self.standard_for(&project_ids).await?;
        self.refresh_unauthorized(&host, &project_ids, now).await?;
        let facts = self.facts(&host, project_ids, now).await?;
        let exceptions = store.active_exceptions(now).await?;
        let compliance = evaluate(&standard, &facts, &exceptions, now);
        let previous = store
            .record_host_compliance(&host.id, &compliance, now)
            .await?;
        let mut transitions = Vec::new();
        let was_non_compliant = previous.is_some_and(|p| p.state == State::NonCompliant);
        match compliance.state {
            State::NonCompliant if !was_non_compliant => {
                transitions.push(ComplianceTransition::BecameNonCompliant {
                    host_id: host.id.clone(),
                    hostname: host.hostname.clone(),
                    reasons: compliance.reasons.clone(),
                    at: now,
                })
            }
            State::Compliant if was_non_compliant => {
                transitions.push(ComplianceTransition::BecameCompliant {
                    host_id: host.id.clone(),
                    hostname: host.hostname.clone(),
                    at: now,
                })
            }
            _ => {}
        }
        if compliance.is_stale() && !previous.is_some_and(|p| p.stale) {
            transitions.push(ComplianceTransition::BecameStale {
                host_id: host.id.clone(),
                hostname: host.hostname.clone(),
                last_seen: host.last_seen,
                at: now,
            });
        }
        self.publish(&transitions);
        Ok((compliance, transitions))
    }

    /// The standard a host in these projects must meet (strictest of them; defaults for
    /// projects without one and for hosts in none).
    async fn standard_for(&self, project_ids: &[String]) -> Result<Standard, rampart_store::Error> {
        if project_ids.is_empty() {
            return Ok(Standard::default());
        }
        let configured = self.store.project_standards().await?;
        let standards: Vec<Standard> = project_ids
            .iter()
            .map(|p| configured.get(p).copied().unwrap_or_default())
            .collect();
        Ok(Standard::strictest(&standards))
    }

    /// Judges the host's packages against its projects' policies and stores the result
    /// (first sightings kept by the store).
    async fn refresh_unauthorized(
        &self,
        host: &Host,
        project_ids: &[String],
        now: Millis,
    ) -> Result<(), rampart_store::Error> {
        let policies: Vec<_> = self
            .store
            .software_policies()
            .await?
            .into_iter()
            .filter(|p| project_ids.contains(&p.project_id) && !p.policy.is_empty())
            .filter_map(|p| match p.policy.compile() {
                Ok(compiled) => Some((p.project_id, compiled)),
                Err(e) => {
                    // Stored policies were compiled before saving; a failure is a bug.
                    tracing::error!(project_id = %p.project_id, error = %e, "stored software policy does not compile");
                    None
                }
            })
            .collect();
        let mut refused = Vec::new();
        if !policies.is_empty() {
            for package in self.store.host_packages(&host.id).await? {
                let verdict = policies
                    .iter()
                    .map(|(project, policy)| (project, policy.verdict(&package.name)))
                    .find(|(_, v)| !v.is_authorized());
                if let Some((project, verdict)) = verdict {
                    refused.push(NewUnauthorized {
                        package: package.name.clone(),
                        version: package.version.clone(),
                        project_id: Some(project.clone()),
                        rule: verdict.to_string(),
                    });
                }
            }
        }
        // The agent's observation time is stored with first sightings only; reading it
        // decodes the whole inventory document, so only when something is refused.
        let observed_at = if refused.is_empty() {
            None
        } else {
            self.store
                .host_inventory(&host.id)
                .await?
                .map(|inventory| inventory.observed_at.saturating_mul(1000))
        };
        self.store
            .replace_unauthorized(&host.id, &refused, observed_at, now)
            .await?;
        Ok(())
    }

    async fn facts(
        &self,
        host: &Host,
        project_ids: Vec<String>,
        now: Millis,
    ) -> Result<HostFacts, rampart_store::Error> {
        let store = &self.store;
        let findings = store.host_findings(&host.id).await?;
        store.sync_pending_since(&host.id, now).await?;
        let since = store.pending_since(&host.id).await?;
        // The findings engine already classed each update (`update_fixes`: the
        // findings whose fixed version the candidate reaches); one source of truth.
        let updates = store.host_updates(&host.id).await?;
        let all_fixes: Vec<String> = updates.iter().flat_map(|u| u.fixes.clone()).collect();
        let published = store.advisories_published(&all_fixes).await?;
        let pending_updates = updates
            .into_iter()
            .map(|u| PendingUpdateFact {
                advisory_published: u
                    .fixes
                    .iter()
                    .filter_map(|id| published.get(id))
                    .min()
                    .copied(),
                first_seen_pending: since
                    .get(&(
                        u.update.name.clone(),
                        u.update.arch.clone().unwrap_or_default(),
                    ))
                    .copied()
                    .unwrap_or(now),
                reported_security: u.reported_category == UpdateCategory::Security,
                fixes: u.fixes,
                name: u.update.name,
                arch: u.update.arch,
                installed: u.update.installed,
                candidate: u.update.candidate,
            })
            .collect();
        let unauthorized = store
            .list_unauthorized(
                &UnauthorizedFilter {
                    host_id: Some(host.id.clone()),
                    ..Default::default()
                },
                Page {
                    limit: 10_000,
                    offset: 0,
                },
            )
            .await?
            .items
            .into_iter()
            .map(|u| UnauthorizedFact {
                name: u.package,
                version: u.version,
                rule: u.rule,
                first_seen: u.first_seen,
            })
            .collect();
        Ok(HostFacts {
            host_id: host.id.clone(),
            project_ids,
            enrolled_at: host.first_seen,
            last_seen: host.last_seen,
            last_inventory_at: host.last_inventory_at,
            last_updated_at: host.last_updated_at,
            findings: findings
                .into_iter()
                .map(|f| FindingFact {
                    advisory: f.finding.advisory,
                    aliases: f.finding.aliases,
                    package: f.finding.package,
                    severity: f.finding.severity.level,
                })
                .collect(),
            pending_updates,
            unauthorized,
        })
    }

    /// Marks hosts for re-evaluation after a standard, policy or exception changed: one
    /// host, a project's hosts, or everything; and wakes [`run_scheduler`] to evaluate
    /// them now rather than at its next round.
    pub async fn mark_due(
        &self,
        host_id: Option<&str>,
        project_id: Option<&str>,
        now: Millis,
    ) -> Result<(), rampart_store::Error> {
        let marked = self
            .store
            .mark_compliance_due(host_id, project_id, now)
            .await?;
        if marked > 0 {
            self.due.notify_one();
        }
        Ok(())
    }

    /// Resolves when [`ComplianceEngine::mark_due`] marked hosts since the last call
    /// (a wake-up that came while nobody waited is kept for the next waiter).
    pub async fn hosts_marked_due(&self) {
        self.due.notified().await;
    }

    /// Evaluates the hosts due at `now` (see `Store::hosts_due_for_compliance`), at
    /// most `limit` of them.
    pub async fn refresh_due(
        &self,
        now: Millis,
        limit: u32,
    ) -> Result<(u64, Vec<ComplianceTransition>), rampart_store::Error> {
        let mut transitions = Vec::new();
        let mut evaluated = 0u64;
        while evaluated < u64::from(limit) {
            let batch = (u64::from(limit) - evaluated).min(500) as u32;
            let due = self.store.hosts_due_for_compliance(now, batch).await?;
            if due.is_empty() {
                break;
            }
            for host_id in &due {
                match self.evaluate_host(host_id, now).await {
                    Ok((_, t)) => transitions.extend(t),
                    // Deleted meanwhile.
                    Err(rampart_store::Error::NotFound { .. }) => {}
                    Err(e) => return Err(e),
                }
                evaluated += 1;
            }
            if due.len() < batch as usize {
                break;
            }
        }
        Ok((evaluated, transitions))
    }

    /// Re-evaluates every host of a project (`None`: of the estate) without re-matching
    /// findings (after a feed import the findings engine already did).
    pub async fn evaluate_all(
        &self,
        project_id: Option<&str>,
        now: Millis,
    ) -> Result<(u64, Vec<ComplianceTransition>), rampart_store::Error> {
        let hosts = hosts_of(&self.store, project_id).await?;
        let mut transitions = Vec::new();
        for host_id in &hosts {
            match self.evaluate_host(host_id, now).await {
                Ok((_, t)) => transitions.extend(t),
                Err(rampart_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok((hosts.len() as u64, transitions))
    }

    /// A full re-evaluation of a project (`None`: the estate): every host's findings
    /// re-matched against the current advisories, then its compliance; recorded as a
    /// scan run, followed by today's trend rows.
    pub async fn scan(
        &self,
        findings: &FindingsEngine,
        project_id: Option<&str>,
        trigger: ScanTrigger,
        requested_by: Option<&str>,
        now: Millis,
    ) -> Result<(ScanRun, Vec<ComplianceTransition>), rampart_store::Error> {
        let run = self
            .store
            .start_scan(project_id, trigger, requested_by, now)
            .await?;
        let result = async {
            let hosts = hosts_of(&self.store, project_id).await?;
            // The estate at once through the findings engine's grouped path (each
            // distinct package set matched once); a project host by host.
            let whole_estate = project_id.is_none();
            if whole_estate {
                findings.recompute_all(now).await?;
            }
            let mut transitions = Vec::new();
            let mut non_compliant = 0u64;
            for host_id in &hosts {
                let evaluated = async {
                    if !whole_estate {
                        findings.recompute_host(host_id, now).await?;
                    }
                    self.evaluate_host(host_id, now).await
                };
                match evaluated.await {
                    Ok((c, t)) => {
                        non_compliant += u64::from(c.state == State::NonCompliant);
                        transitions.extend(t);
                    }
                    Err(rampart_store::Error::NotFound { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok((hosts.len() as u64, non_compliant, transitions))
        }
        .await;
        match result {
            Ok((hosts, non_compliant, transitions)) => {
                let run = self
                    .store
                    .finish_scan(&run.id, hosts, non_compliant, None, now)
                    .await?;
                self.record_trend(now).await?;
                Ok((run, transitions))
            }
            Err(e) => {
                let message = crate::error::error_chain(&e);
                self.store
                    .finish_scan(&run.id, 0, 0, Some(&message), now)
                    .await?;
                Err(e)
            }
        }
    }

    /// Writes today's trend rows (UTC day of `now`) for the estate and every project,
    /// from the snapshots; later calls the same day overwrite them.
    pub async fn record_trend(&self, now: Millis) -> Result<(), rampart_store::Error> {
        let day = now.div_euclid(DAY);
        let point = |s: rampart_store::ComplianceSummary| TrendPoint {
            day,
            hosts: s.hosts,
            non_compliant: s.non_compliant,
            critical: s.critical,
            high: s.high,
            pending_security: s.pending_security,
        };
        let estate = self.store.compliance_summary(None).await?;
        self.store.record_trend(None, &point(estate), now).await?;
        for project in self.store.list_projects().await? {
            let summary = self.store.compliance_summary(Some(&project.id)).await?;
            self.store
                .record_trend(Some(&project.id), &point(summary), now)
                .await?;
        }
        Ok(())
    }

    /// Announces approved exceptions expiring within `within`, each once.
    pub async fn expiring_exceptions(
        &self,
        now: Millis,
        within: Millis,
    ) -> Result<Vec<ComplianceTransition>, rampart_store::Error> {
        let mut transitions = Vec::new();
        for record in self.store.exceptions_expiring(now, within).await? {
            if self
                .store
                .mark_exception_expiry_warned(&record.exception.id, now)
                .await?
            {
                transitions.push(expiring(record));
            }
        }
        self.publish(&transitions);
        Ok(transitions)
    }

    /// One round of the scheduler; see the module documentation.
    pub async fn tick(
        &self,
        findings: &FindingsEngine,
        now: Millis,
    ) -> Result<TickReport, rampart_store::Error> {
        let mut report = TickReport::default();
        let (evaluated, transitions) = self.refresh_due(now, u32::MAX).await?;
        report.evaluated = evaluated;
        report.transitions.extend(transitions);

        let standards = self.store.project_standards().await?;
        let mut scopes: Vec<(Option<String>, Standard)> = vec![(None, Standard::default())];
        for project in self.store.list_projects().await? {
            let standard = standards.get(&project.id).copied().unwrap_or_default();
            scopes.push((Some(project.id), standard));
        }
        // The estate comes first; when it is scanned this round, a project's scan due
        // too is already done by it (every host re-matched and evaluated at `now`), so
        // it is recorded from the fresh snapshots rather than run again — on a new
        // server's first round that halves the work.
        let mut estate_scanned = false;
        for (project_id, standard) in scopes {
            let every = i64::from(standard.full_scan_interval_hours) * 3_600_000;
            let last = self.store.last_finished_scan(project_id.as_deref()).await?;
            if last.is_none_or(|l| l.started_at + every <= now) {
                if estate_scanned && let Some(project) = project_id.as_deref() {
                    let run = self
                        .store
                        .start_scan(Some(project), ScanTrigger::Schedule, None, now)
                        .await?;
                    let summary = self.store.compliance_summary(Some(project)).await?;
                    let run = self
                        .store
                        .finish_scan(&run.id, summary.hosts, summary.non_compliant, None, now)
                        .await?;
                    report.scans.push(run);
                    continue;
                }
                let (run, transitions) = self
                    .scan(
                        findings,
                        project_id.as_deref(),
                        ScanTrigger::Schedule,
                        None,
                        now,
                    )
                    .await?;
                estate_scanned |= run.project_id.is_none();
                report.scans.push(run);
                report.transitions.extend(transitions);
            }
        }
        self.record_trend(now).await?;
        report.transitions.extend(
            self.expiring_exceptions(now, EXCEPTION_EXPIRY_NOTICE)
                .await?,
        );
        Ok(report)
    }

    fn publish(&self, transitions: &[ComplianceTransition]) {
        for t in transitions {
            // No receiver is fine: nobody listens yet.
            let _ = self.events.send(t.clone());
        }
    }
}

fn expiring(record: ExceptionRecord) -> ComplianceTransition {
    let e = record.exception;
    ComplianceTransition::ExceptionExpiring {
        exception_id: e.id,
        advisory: e.advisory,
        scope: e.scope,
        expires_at: e.expires_at,
        requested_by: record.requested_by_name,
    }
}

/// Host ids of a project (`None`: every host).
async fn hosts_of(
    store: &Store,
    project_id: Option<&str>,
) -> Result<Vec<String>, rampart_store::Error> {
    let filter = HostFilter {
        project_id: project_id.map(str::to_owned),
        ..Default::default()
    };
    let mut ids = Vec::new();
    loop {
        let page = Page {
            limit: 1000,
            offset: ids.len() as u64,
        };
        let got = store.list_hosts(&filter, page).await?;
        let done = got.items.len() < page.limit as usize;
        ids.extend(got.items.into_iter().map(|h| h.id));
        if done {
            return Ok(ids);
        }
    }
}

/// A project's overdue security updates, from its hosts' latest snapshots: what the
/// project's change request asks for (hosts in id order, updates as the reasons list
/// them). Empty when nothing is overdue, which closes an open request.
pub async fn overdue_updates(
    store: &Store,
    project_id: &str,
) -> Result<Vec<ChangeRequestItem>, rampart_store::Error> {
    let snapshots = store
        .list_host_compliance(
            &rampart_store::ComplianceFilter {
                project_id: Some(project_id.to_owned()),
                ..Default::default()
            },
            Page {
                limit: u32::MAX,
                offset: 0,
            },
        )
        .await?;
    let mut items: Vec<ChangeRequestItem> = snapshots
        .items
        .into_iter()
        .filter_map(|snap| {
            let updates: Vec<OverdueUpdate> = snap
                .reasons
                .iter()
                .filter_map(|r| match r {
                    Reason::OverdueSecurityUpdate {
                        package,
                        installed,
                        candidate,
                        pending_since,
                        ..
                    } => Some(OverdueUpdate {
                        package: package.clone(),
                        installed: installed.clone(),
                        candidate: candidate.clone(),
                        pending_since: *pending_since,
                    }),
                    _ => None,
                })
                .collect();
            (!updates.is_empty()).then_some(ChangeRequestItem {
                host_id: snap.host_id,
                hostname: snap.hostname,
                updates,
            })
        })
        .collect();
    items.sort_by(|a, b| a.host_id.cmp(&b.host_id));
    Ok(items)
}

/// One round of the scheduler: [`ComplianceEngine::tick`], then every project's change
/// request brought in line with its overdue security updates (opened, updated or
/// closed; the notifier emits the events, which a ticketing webhook receives).
pub async fn scheduler_round(
    state: &crate::AppState,
    now: Millis,
) -> Result<TickReport, rampart_store::Error> {
    let report = state.compliance().tick(state.engine(), now).await?;
    for project in state.store().list_projects().await? {
        let items = overdue_updates(state.store(), &project.id).await?;
        if let Err(e) =
            crate::notifier::open_or_update_change_request(state, &project.id, &items).await
        {
            tracing::warn!(project = %project.name, error = %e, "updating the change request failed");
        }
    }
    Ok(report)
}

/// Runs [`scheduler_round`] every `every` until the task is dropped; failures are
/// logged and retried at the next round. Between rounds, hosts that
/// [`ComplianceEngine::mark_due`] marked are evaluated as soon as they are marked, so a
/// changed standard or exception reaches every snapshot without waiting for the round
/// (reads refresh only [`READ_REFRESH_LIMIT`] hosts themselves). Transitions go to
/// subscribers (and the log).
pub async fn run_scheduler(state: crate::AppState, every: Duration) {
    let mut ticker = tokio::time::interval(every.max(Duration::from_secs(1)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let full_round = tokio::select! {
            _ = ticker.tick() => true,
            () = state.compliance().hosts_marked_due() => false,
        };
        let now = state.now();
        let result =
            if full_round {
                scheduler_round(&state, now).await
            } else {
                state.compliance().refresh_due(now, u32::MAX).await.map(
                    |(evaluated, transitions)| TickReport {
                        evaluated,
                        scans: Vec::new(),
                        transitions,
                    },
                )
            };
        match result {
            Ok(report) => {
                for t in &report.transitions {
                    tracing::info!(transition = ?t, "compliance transition");
                }
                if report.evaluated > 0 || !report.scans.is_empty() {
                    tracing::debug!(
                        evaluated = report.evaluated,
                        scans = report.scans.len(),
                        full_round,
                        "compliance refresh"
                    );
                }
            }
            Err(e) => {
                tracing::warn!(error = %crate::error::error_chain(&e), "compliance tick failed")
            }
        }
    }
}
