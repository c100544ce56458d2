//! Pending updates, computed from the package manager's local metadata without network
//! access: what `apt list --upgradable` (and later `dnf check-update`, `apk version -l
//! '<'`) would print right now.
//!
//! apt is done (see [`super::apt`]); RPM and apk hosts get an honest problem saying the
//! updates were not computed, rather than an empty list that reads as "up to date".

use rampart_core::package::{Package, PackageFormat};
use rampart_proto::PendingUpdate;

use super::{Context, Problems, apt};

pub fn collect(
    ctx: &Context,
    packages: &[Package],
    native_arch: Option<&str>,
    problems: &mut Problems<'_>,
) -> Vec<PendingUpdate> {
    let mut updates = Vec::new();
    let has = |f: PackageFormat| packages.iter().any(|p| p.format == f);
    if has(PackageFormat::Deb) {
        updates = apt::pending(ctx, packages, native_arch, problems);
    }
    if has(PackageFormat::Rpm) {
        problems.push(
            "not computed for rpm: reading dnf's cached repository metadata is not implemented yet",
        );
    }
    if has(PackageFormat::Apk) {
        problems.push("not computed for apk: reading APKINDEX is not implemented yet");
    }
    updates
}
