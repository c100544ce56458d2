//! The root's os-release(5): which distribution release, hence which advisories, apply.

use rampart_core::distro::OsRelease;

use crate::Error;
use crate::Problem;
use crate::root::{Found, Root};

/// Where os-release(5) says to look, in order: `/etc/os-release` (usually a symlink to
/// the other, which [`Root::resolve`] follows inside the root) and then the vendor copy.
const PATHS: [&str; 2] = ["etc/os-release", "usr/lib/os-release"];

/// Reads the first os-release present. A root without one is still inventoried (its
/// packages are facts) with [`OsRelease::default`] and a problem saying why.
pub(crate) fn read(root: &Root, found: &mut Found) -> Result<OsRelease, Error> {
    for path in PATHS {
        if let Some((_, bytes)) = root.read(path).map_err(|e| root.error(path, e))? {
            return Ok(OsRelease::parse(&String::from_utf8_lossy(&bytes)));
        }
    }
    found.problems.push(Problem::new(
        PATHS.join(" or "),
        "no os-release file; the distribution is unknown",
    ));
    Ok(OsRelease::default())
}
