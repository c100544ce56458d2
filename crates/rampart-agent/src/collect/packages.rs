//! Installed packages: `rampart_inventory::read_root`, the same readers `rampart scan`
//! uses, so the server and the offline scan see a host identically.

use rampart_core::package::Package;

use super::{Context, Problems};

/// Installed packages sorted by (name, arch, version); an unreadable or missing
/// database is a problem and an empty list, never a failed inventory.
pub fn collect(ctx: &Context, problems: &mut Problems<'_>) -> Vec<Package> {
    match rampart_inventory::read_root(ctx.root().path()) {
        Ok(inv) => {
            for p in inv.problems {
                problems.push(p.to_string());
            }
            inv.packages
        }
        Err(e) => {
            problems.push(e.to_string());
            Vec::new()
        }
    }
}
