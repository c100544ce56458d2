//! The findings engine: keeps the matcher's [`AdvisoryIndex`] in memory and turns
//! inventories into stored findings.
//!
//! The index is built from `Store::load_advisories` at start and swapped whole after a
//! feed import (readers clone an `Arc` and never wait for a rebuild). Two entry points
//! write findings:
//! - [`FindingsEngine::after_inventory`] / [`FindingsEngine::recompute_host`]: one host,
//!   after its package set changed. The agent check-in handler calls `after_inventory`
//!   with what `Store::record_inventory` returned.
//! - [`FindingsEngine::recompute_all`]: the whole estate after a feed import. Hosts are
//!   grouped by (release, package set) and fed to [`Estate`], which evaluates each
//!   distinct (release, package) once; every host of a group gets the same findings.
//!
//! Both also class the host's pending updates by the findings they fix
//! ([`rampart_core::matcher::update_fixes`]): apk reports no security metadata, so an
//! Alpine update is `security` exactly when it reaches a finding's fixed version.
//!
//! Recomputations are serialised by one mutex so a host recompute never interleaves
//! with an estate-wide one and writes stale findings last.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use rampart_core::distro::Release;
use rampart_core::matcher::{AdvisoryIndex, Estate, Finding, update_fixes};
use rampart_core::version::VersionKind;
use rampart_store::{
    Host, HostFilter, InventoryOutcome, Millis, Page, Store, UpdateClassification,
};

/// What an estate-wide recompute did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecomputeStats {
    pub hosts: u64,
    /// Distinct (release, package set) groups evaluated.
    pub package_sets: u64,
    pub findings: u64,
}

/// See the module documentation.
pub struct FindingsEngine {
    store: Store,
    index: RwLock<Arc<AdvisoryIndex>>,
    recompute: tokio::sync::Mutex<()>,
}

impl FindingsEngine {
    /// Builds the index from every stored advisory.
    pub async fn load(store: Store) -> Result<FindingsEngine, rampart_store::Error> {
        let index = build_index(&store).await?;
        Ok(FindingsEngine {
            store,
            index: RwLock::new(Arc::new(index)),
            recompute: tokio::sync::Mutex::new(()),
        })
    }

    /// The current index.
    pub fn index(&self) -> Arc<AdvisoryIndex> {
        self.index.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Rebuilds the index from the store (after advisories were upserted) and swaps it
    /// in. Returns the number of advisories indexed.
    pub async fn reload_index(&self) -> Result<usize, rampart_store::Error> {
        let index = build_index(&self.store).await?;
        let n = index.len();
        *self.index.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(index);
        Ok(n)
    }

    /// The check-in seam: call after `Store::record_inventory` for `host_id`; findings
    /// are recomputed only when the package list changed.
    pub async fn after_inventory(
        &self,
        host_id: &str,
        outcome: InventoryOutcome,
        now: Millis,
    ) -> Result<(), rampart_store::Error> {
        match outcome {
            InventoryOutcome::Stored {
                packages_changed: true,
                ..
            } => self.recompute_host(host_id, now).await.map(|_| ()),
            // Same packages, so the same findings, but the pending updates were
            // rewritten and need their classes again.
            InventoryOutcome::Stored { .. } => {
                let _guard = self.recompute.lock().await;
                let host = self.store.get_host(host_id).await?;
                let findings: Vec<Finding> = (self.store.host_findings(host_id).await?)
                    .into_iter()
                    .map(|f| f.finding)
                    .collect();
                self.classify_updates(&host, &findings).await
            }
            InventoryOutcome::Unchanged => Ok(()),
        }
    }

    /// Matches one host's stored packages against the index and replaces its findings.
    /// Returns the number of findings stored.
    pub async fn recompute_host(
        &self,
        host_id: &str,
        now: Millis,
    ) -> Result<usize, rampart_store::Error> {
        let _guard = self.recompute.lock().await;
        let host = self.store.get_host(host_id).await?;
        let critical_before = self.store.critical_finding_keys(Some(host_id)).await?;
        let findings = match (release_of(&host), &host.package_set_hash) {
            (Some(release), Some(_)) => {
                let packages = self.store.host_packages(host_id).await?;
                let index = self.index();
                tokio::task::spawn_blocking(move || {
                    rampart_core::matcher::match_host(&index, &release, &packages)
                })
                .await
                .map_err(join_error)?
            }
            _ => Vec::new(),
        };
        self.store.replace_findings(host_id, &findings, now).await?;
        self.classify_updates(&host, &findings).await?;
        notify_new_critical(&self.store, &critical_before, Some(host_id), now).await;
        Ok(findings.len())
    }

    /// Records which of `findings` each pending update of `host` fixes (see
    /// [`rampart_core::matcher::update_fixes`]).
    async fn classify_updates(
        &self,
        host: &Host,
        findings: &[Finding],
    ) -> Result<(), rampart_store::Error> {
        let updates = self.store.host_updates(&host.id).await?;
        if updates.is_empty() {
            return Ok(());
        }
        let kind = release_of(host).map_or(VersionKind::Deb, |r| r.distro.version_kind());
        let classes: Vec<UpdateClassification> = updates
            .into_iter()
            .map(|u| {
                let fixes = update_fixes(kind, &u.update.name, &u.update.candidate, findings);
                UpdateClassification {
                    name: u.update.name,
                    arch: u.update.arch,
                    candidate: u.update.candidate,
                    fixes: fixes.advisories,
                    severity: fixes.severity,
                }
            })
            .collect();
        self.store.classify_host_updates(&host.id, &classes).await
    }

    /// Recomputes every host's findings (after a feed import).
    pub async fn recompute_all(&self, now: Millis) -> Result<RecomputeStats, rampart_store::Error> {
        let _guard = self.recompute.lock().await;
        let critical_before = self.store.critical_finding_keys(None).await?;
        let hosts = all_hosts(&self.store).await?;
        // (release, package set hash) → hosts; hosts without either get no findings.
        let mut groups: BTreeMap<(Release, String), Vec<String>> = BTreeMap::new();
        let mut unmatched = Vec::new();
        for host in &hosts {
            match (release_of(host), &host.package_set_hash) {
                (Some(release), Some(hash)) => groups
                    .entry((release, hash.clone()))
                    .or_default()
                    .push(host.id.clone()),
                _ => unmatched.push(host.id.clone()),
            }
        }
        let mut sets = Vec::with_capacity(groups.len());
        let mut gone = Vec::new();
        for (release, hash) in groups.keys() {
            match self.store.package_set(hash).await {
                Ok(set) => sets.push((release.clone(), set)),
                // Every host of this set moved on since the snapshot (and the set was
                // collected): their own inventories recompute them.
                Err(rampart_store::Error::NotFound { .. }) => {
                    gone.push((release.clone(), hash.clone()))
                }
                Err(e) => return Err(e),
            }
        }
        for key in gone {
            groups.remove(&key);
        }
        let index = self.index();
        let per_group: Vec<Vec<Finding>> = tokio::task::spawn_blocking(move || {
            let mut estate = Estate::new();
            let hosts: Vec<_> = sets
                .iter()
                .map(|(release, packages)| {
                    let set = estate.add_package_set(release, packages);
                    estate.add_host(set)
                })
                .collect();
            estate.evaluate(&index);
            hosts
                .into_iter()
                .map(|h| estate.host_findings(&index, h))
                .collect()
        })
        .await
        .map_err(join_error)?;
        let mut stats = RecomputeStats {
            hosts: hosts.len() as u64,
            package_sets: per_group.len() as u64,
            findings: 0,
        };
        let by_id: BTreeMap<&str, &Host> = hosts.iter().map(|h| (h.id.as_str(), h)).collect();
        for (host_ids, findings) in groups.values().zip(&per_group) {
            for host_id in host_ids {
                self.store.replace_findings(host_id, findings, now).await?;
                self.classify_updates(by_id[host_id.as_str()], findings)
                    .await?;
                stats.findings += findings.len() as u64;
            }
        }
        for host_id in &unmatched {
            self.store.replace_findings(host_id, &[], now).await?;
            self.classify_updates(by_id[host_id.as_str()], &[]).await?;
        }
        notify_new_critical(&self.store, &critical_before, None, now).await;
        Ok(stats)
    }
}

/// Emits `finding.critical` for critical findings that appeared since `before`. A
/// failure to queue the notification is logged and never fails the recomputation: the
/// findings are stored either way.
async fn notify_new_critical(
    store: &Store,
    before: &std::collections::HashSet<(String, String, String)>,
    host_id: Option<&str>,
    now: Millis,
) {
    if let Err(e) = crate::notifier::after_findings(store, before, host_id, now).await {
        tracing::warn!(error = %e, "could not queue the new-critical-finding notifications");
    }
}

/// The release a host's advisories are published under, from the OSV ecosystem its
/// agent reported; `None` for a host not yet inventoried or on an unsupported system.
pub fn release_of(host: &Host) -> Option<Release> {
    host.ecosystem
        .as_deref()
        .and_then(Release::from_osv_ecosystem)
}

async fn all_hosts(store: &Store) -> Result<Vec<Host>, rampart_store::Error> {
    let mut hosts = Vec::new();
    loop {
        let page = Page {
            limit: 1000,
            offset: hosts.len() as u64,
        };
        let got = store.list_hosts(&HostFilter::default(), page).await?;
        let done = got.items.len() < page.limit as usize;
        hosts.extend(got.items);
        if done {
            return Ok(hosts);
        }
    }
}

async fn build_index(store: &Store) -> Result<AdvisoryIndex, rampart_store::Error> {
    let advisories = store.load_advisories().await?;
    tokio::task::spawn_blocking(move || AdvisoryIndex::from_advisories(advisories))
        .await
        .map_err(join_error)
}

fn join_error(e: tokio::task::JoinError) -> rampart_store::Error {
    // A panic in the matcher is a bug; surface it as an internal failure.
    rampart_store::Error::Database {
        source: Box::new(e),
    }
}
