//! Pending updates, computed from the package manager's local metadata without network
//! access: what `apt list --upgradable`, `dnf check-update` and `apk version -l '<'`
//! would print right now.
//!
//! One module per metadata format: [`super::apt`] (apt's lists and policy),
//! [`super::dnf`] over [`super::repodata`] (rpm-md caches of dnf, dnf5, yum and
//! zypper) and [`super::apkindex`] (Alpine). A host without cached metadata gets a
//! problem saying the updates are unknown, never an empty list that reads as "up to date".

use rampart_core::package::{Package, PackageFormat};
use rampart_proto::PendingUpdate;

use super::{Context, Problems, apkindex, apt, dnf};

pub fn collect(
    ctx: &Context,
    packages: &[Package],
    native_arch: Option<&str>,
    problems: &mut Problems<'_>,
) -> Vec<PendingUpdate> {
    let mut updates = Vec::new();
    let has = |f: PackageFormat| packages.iter().any(|p| p.format == f);
    if has(PackageFormat::Deb) {
        updates.extend(apt::pending(ctx, packages, native_arch, problems));
    }
    if has(PackageFormat::Rpm) {
        updates.extend(dnf::pending(ctx, packages, native_arch, problems));
    }
    if has(PackageFormat::Apk) {
        updates.extend(apkindex::pending(ctx, packages, problems));
    }
    updates.sort_by(|a, b| (&a.name, &a.arch).cmp(&(&b.name, &b.arch)));
    updates
}
