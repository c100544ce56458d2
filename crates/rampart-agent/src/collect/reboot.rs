//! Whether the host waits for a reboot: Debian and Ubuntu's `/var/run/reboot-required`
//! flag and the `.pkgs` list of packages that asked for it. `var/run` is usually a
//! symlink to `/run`; it is resolved inside the root.

use super::{Context, Problems};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Collected {
    pub required: bool,
    /// Sorted, without duplicates (a package asks once per upgrade).
    pub packages: Vec<String>,
}

pub fn collect(ctx: &Context, problems: &mut Problems<'_>) -> Collected {
    const FLAG: &str = "var/run/reboot-required";
    let required = match ctx.root().resolve(FLAG) {
        Ok(r) => r.is_some(),
        Err(e) => {
            problems.push(format!("{FLAG}: {e}"));
            false
        }
    };
    let mut packages = Vec::new();
    if required {
        match ctx.read_text("var/run/reboot-required.pkgs") {
            Ok(Some((_, text))) => packages = parse_pkgs(&text),
            Ok(None) => {}
            Err(e) => problems.push(format!("{FLAG}.pkgs: {e}")),
        }
    }
    Collected { required, packages }
}

/// One package name per line.
pub fn parse_pkgs(text: &str) -> Vec<String> {
    let mut v: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    v.sort();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    #[test]
    fn pkgs_sorted_unique() {
        assert_eq!(
            super::parse_pkgs("linux-image-amd64\nlibc6\n\nlinux-image-amd64\n"),
            vec!["libc6", "linux-image-amd64"]
        );
    }
}
