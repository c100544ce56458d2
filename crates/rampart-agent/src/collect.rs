//! Collecting a host's inventory: one module per collector under `collect/`, each reading
//! files under a root directory (`/` on a live host, or a mounted disk or unpacked image)
//! and returning its part of [`rampart_proto::Inventory`] plus the problems it met.
//!
//! Invariants:
//! - Every path is resolved inside the root through [`rampart_inventory::root::Root`], the
//!   way a chroot would see it, so an absolute symlink in an image never reads this
//!   machine's files.
//! - Facts that only exist for the running system (kernel, uptime, hostname fallback,
//!   `sshd -T`, listening sockets) are read only when the root is `/`: reading this
//!   machine's `/proc` for an image would attribute its kernel to the image.
//! - A collector never fails the inventory: what it cannot read becomes a
//!   [`CollectorProblem`] and the rest stands. Only a missing root is an [`Error`].
//! - No collector opens a network connection; cloud identity comes from local caches.

pub mod apkindex;
pub mod apt;
pub mod cloud;
pub mod dnf;
pub mod listening;
pub mod os;
pub mod packages;
pub mod reboot;
pub mod repodata;
pub mod ssh_keys;
pub mod sshd;
pub mod updates;
pub mod users;

use std::io;
use std::path::{Path, PathBuf};

use rampart_core::package::Package;
use rampart_inventory::root::{Resolved, Root};
use rampart_proto::{CollectorProblem, HostFacts, HostState, Inventory, PROTOCOL_VERSION};

/// Why no inventory could be collected at all.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The root is missing or not a directory: collecting from it would report an
    /// empty host, which reads as "nothing installed, nothing exposed".
    #[error("root {}: {source}", path.display())]
    Root {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// The root being collected from, shared by every collector.
#[derive(Clone, Debug)]
pub struct Context {
    root: Root,
    live: bool,
}

impl Context {
    /// Opens `root`; fails unless it is a directory.
    pub fn new(root: &Path) -> Result<Context, Error> {
        let opened = Root::new(root).map_err(|source| Error::Root {
            path: root.to_owned(),
            source,
        })?;
        let live = std::fs::canonicalize(root).is_ok_and(|p| p == Path::new("/"));
        Ok(Context { root: opened, live })
    }

    /// Whether the root is this running system (`/`), so `/proc`, the kernel and
    /// processes describe it.
    pub fn is_live(&self) -> bool {
        self.live
    }

    pub fn root(&self) -> &Root {
        &self.root
    }

    /// Reads a regular file inside the root as (lossy) UTF-8: `Ok(None)` when absent.
    pub fn read_text(&self, path: &str) -> io::Result<Option<(Resolved, String)>> {
        Ok(self
            .root
            .read(path)?
            .map(|(r, bytes)| (r, String::from_utf8_lossy(&bytes).into_owned())))
    }

    /// Reads a file of the running system (`/proc/...`), only when the root is `/`.
    pub fn read_live(&self, path: &str) -> Option<String> {
        if !self.live {
            return None;
        }
        std::fs::read_to_string(path).ok()
    }
}

/// Problems met by one collector, named once so each message stays short.
#[derive(Debug)]
pub struct Problems<'a> {
    collector: &'static str,
    out: &'a mut Vec<CollectorProblem>,
}

impl<'a> Problems<'a> {
    pub fn new(collector: &'static str, out: &'a mut Vec<CollectorProblem>) -> Problems<'a> {
        Problems { collector, out }
    }

    pub fn push(&mut self, message: impl Into<String>) {
        self.out.push(CollectorProblem {
            collector: self.collector.to_owned(),
            message: message.into(),
        });
    }
}

/// Collects the whole inventory of `root`. `observed_at` is the agent's clock (Unix
/// seconds), passed in so callers and tests control it.
pub fn collect(root: &Path, observed_at: i64) -> Result<Inventory, Error> {
    let ctx = Context::new(root)?;
    let mut problems = Vec::new();

    let os_facts = os::collect(&ctx, &mut Problems::new("os", &mut problems));
    let cloud = cloud::collect(&ctx, &mut Problems::new("cloud", &mut problems));
    let packages = without_duplicates(
        packages::collect(&ctx, &mut Problems::new("packages", &mut problems)),
        &mut Problems::new("packages", &mut problems),
    );
    let arch = os::package_arch(&packages).or(os_facts.machine);
    let updates = updates::collect(
        &ctx,
        &packages,
        arch.as_deref(),
        &mut Problems::new("updates", &mut problems),
    );
    let reboot = reboot::collect(&ctx, &mut Problems::new("reboot", &mut problems));
    let users_all = users::collect(&ctx, &mut Problems::new("users", &mut problems));
    let sshd = sshd::collect(&ctx, &mut Problems::new("sshd", &mut problems));
    let ssh_keys = ssh_keys::collect(
        &ctx,
        &users_all,
        sshd.as_ref(),
        &mut Problems::new("ssh_keys", &mut problems),
    );
    let listening = listening::collect(&ctx, &mut Problems::new("listening", &mut problems));

    let users = users_all
        .into_iter()
        .filter(|u| u.login)
        .map(|u| u.user)
        .collect();
    Ok(Inventory {
        protocol: PROTOCOL_VERSION,
        observed_at,
        uptime_secs: os_facts.uptime_secs,
        state: HostState {
            host: HostFacts {
                hostname: os_facts.hostname,
                machine_id: os_facts.machine_id,
                os: os_facts.os,
                kernel: os_facts.kernel,
                arch,
                cloud,
                reboot_required: reboot.required,
                reboot_required_packages: reboot.packages,
            },
            packages,
            updates,
            users,
            ssh_keys,
            sshd,
            listening,
            problems,
        },
    })
}

/// The packages with exact repeats (same name, version and architecture) dropped,
/// keeping the first: an RPM database left by an interrupted transaction can list one
/// package twice, and the server refuses an inventory that lists a package twice.
fn without_duplicates(packages: Vec<Package>, problems: &mut Problems<'_>) -> Vec<Package> {
    let mut seen = std::collections::HashSet::with_capacity(packages.len());
    let before = packages.len();
    let kept: Vec<Package> = packages
        .into_iter()
        .filter(|p| seen.insert((p.name.clone(), p.version.clone(), p.arch.clone())))
        .collect();
    if kept.len() < before {
        problems.push(format!(
            "the package database lists {} package entries more than once; each is reported once",
            before - kept.len()
        ));
    }
    kept
}

/// Keeps quoted input short in problems: a junk line can be arbitrarily long.
pub(crate) fn clip(s: &str) -> &str {
    match s.char_indices().nth(60) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_core::package::PackageFormat;

    fn rpm(name: &str, version: &str, arch: &str) -> Package {
        Package {
            name: name.into(),
            version: version.into(),
            arch: Some(arch.into()),
            source_name: None,
            source_version: None,
            format: PackageFormat::Rpm,
        }
    }

    /// A database listing a package twice reports it once, with a problem saying so;
    /// two installed kernels or two architectures of one package are not repeats.
    #[test]
    fn repeated_package_entries_are_reported_once() {
        let mut problems = Vec::new();
        let kept = without_duplicates(
            vec![
                rpm("bash", "5.1-1", "x86_64"),
                rpm("kernel", "5.14-1", "x86_64"),
                rpm("kernel", "5.14-2", "x86_64"),
                rpm("glibc", "2.34-1", "x86_64"),
                rpm("glibc", "2.34-1", "i686"),
                rpm("bash", "5.1-1", "x86_64"),
            ],
            &mut Problems::new("packages", &mut problems),
        );
        assert_eq!(kept.len(), 5);
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].message.contains("1 package entries"),
            "{problems:?}"
        );
        let mut none = Vec::new();
        without_duplicates(
            vec![rpm("a", "1", "noarch")],
            &mut Problems::new("p", &mut none),
        );
        assert!(none.is_empty());
    }
}
