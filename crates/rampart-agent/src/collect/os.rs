//! The host's identity and operating system: os-release, hostname, machine-id, kernel,
//! architecture and uptime.

use rampart_core::distro::OsRelease;
use rampart_core::package::Package;
use rampart_proto::OsFacts;

use super::{Context, Problems};

/// What this collector learnt; [`super::collect`] spreads it over the inventory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Collected {
    pub os: OsFacts,
    pub hostname: String,
    pub machine_id: Option<String>,
    pub kernel: Option<String>,
    /// `uname -m` (`x86_64`), live roots only; the package manager's name for the
    /// architecture ([`package_arch`]) is preferred because updates are keyed by it.
    pub machine: Option<String>,
    pub uptime_secs: Option<u64>,
}

/// Where os-release(5) says to look, in order.
const OS_RELEASE: [&str; 2] = ["etc/os-release", "usr/lib/os-release"];

pub fn collect(ctx: &Context, problems: &mut Problems<'_>) -> Collected {
    Collected {
        os: os_facts(ctx, problems),
        hostname: hostname(ctx, problems),
        machine_id: machine_id(ctx, problems),
        kernel: ctx
            .read_live("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_owned()),
        machine: machine(ctx),
        uptime_secs: ctx.read_live("/proc/uptime").and_then(|s| parse_uptime(&s)),
    }
}

fn os_facts(ctx: &Context, problems: &mut Problems<'_>) -> OsFacts {
    let mut text = None;
    for path in OS_RELEASE {
        match ctx.read_text(path) {
            Ok(Some((_, t))) => {
                text = Some(t);
                break;
            }
            Ok(None) => {}
            Err(e) => problems.push(format!("{path}: {e}")),
        }
    }
    let Some(text) = text else {
        problems.push("no os-release file; the distribution is unknown");
        return OsFacts::default();
    };
    let release = OsRelease::parse(&text);
    let ecosystem = match release.release() {
        Ok(r) => Some(r.to_string()),
        Err(e) => {
            problems.push(format!("no advisory ecosystem: {e}"));
            None
        }
    };
    OsFacts {
        id: release.id,
        version_id: release.version_id.unwrap_or_default(),
        pretty_name: release.pretty_name,
        ecosystem,
    }
}

/// `etc/hostname`; the kernel's hostname only on a live root, where it is the truth
/// even if the file is missing (hosts named by DHCP or cloud-init).
fn hostname(ctx: &Context, problems: &mut Problems<'_>) -> String {
    match ctx.read_text("etc/hostname") {
        Ok(Some((_, t))) => {
            if let Some(name) = first_value(&t) {
                return name;
            }
        }
        Ok(None) => {}
        Err(e) => problems.push(format!("etc/hostname: {e}")),
    }
    if let Some(name) = ctx
        .read_live("/proc/sys/kernel/hostname")
        .and_then(|t| first_value(&t))
    {
        return name;
    }
    problems.push("no hostname (etc/hostname missing or empty)");
    String::new()
}

/// `etc/machine-id`, else D-Bus's older copy; an empty file (images are built with one so
/// each boot makes its own) is no id.
fn machine_id(ctx: &Context, problems: &mut Problems<'_>) -> Option<String> {
    for path in ["etc/machine-id", "var/lib/dbus/machine-id"] {
        match ctx.read_text(path) {
            Ok(Some((_, t))) => {
                if let Some(id) = first_value(&t) {
                    return Some(id);
                }
            }
            Ok(None) => {}
            Err(e) => problems.push(format!("{path}: {e}")),
        }
    }
    None
}

/// `uname -m` without libc: `/proc/sys/kernel/arch` (Linux 6.1+), else the `uname`
/// tool run with explicit arguments.
fn machine(ctx: &Context) -> Option<String> {
    if !ctx.is_live() {
        return None;
    }
    if let Some(a) = ctx
        .read_live("/proc/sys/kernel/arch")
        .and_then(|t| first_value(&t))
    {
        return Some(a);
    }
    let out = std::process::Command::new("uname")
        .arg("-m")
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| first_value(&String::from_utf8_lossy(&out.stdout)))
        .flatten()
}

/// The architecture as the package manager names it (`amd64`, `x86_64`, `aarch64`):
/// the architecture of the package manager's own package, which is always native.
pub fn package_arch(packages: &[Package]) -> Option<String> {
    ["dpkg", "rpm", "apk-tools"].iter().find_map(|own| {
        packages
            .iter()
            .find(|p| p.name == *own)
            .and_then(|p| p.arch.clone())
            .filter(|a| a != "all" && a != "noarch")
    })
}

/// The first non-comment line, trimmed.
fn first_value(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
}

/// `/proc/uptime`: seconds since boot (a decimal) then idle time.
pub fn parse_uptime(text: &str) -> Option<u64> {
    let secs: f64 = text.split_whitespace().next()?.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then_some(secs as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime() {
        assert_eq!(parse_uptime("12345.67 2345.00\n"), Some(12345));
        assert_eq!(parse_uptime(""), None);
        assert_eq!(parse_uptime("-1 0"), None);
        assert_eq!(parse_uptime("NaN 0"), None);
    }

    #[test]
    fn first_value_skips_comments() {
        assert_eq!(first_value("# x\n\n  web1 \n"), Some("web1".into()));
        assert_eq!(first_value("\n"), None);
    }
}
