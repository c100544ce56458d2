//! Local accounts from `etc/passwd`.
//!
//! An account counts as able to log in unless its shell is one of the well-known refusals
//! (`nologin`, `false`) or the single-purpose `sync`, `halt` and `shutdown` accounts. An
//! empty shell means `/bin/sh` to login(1) and sshd, so it counts. `etc/shells` is
//! deliberately not consulted: sshd does not check it, so an account whose shell is
//! missing from it can still log in by key — reporting one account too many is cheaper
//! than hiding one that can log in.
//!
//! NIS compat lines (`+`/`-`) are not expanded; they become a problem so the gap shows.

use rampart_proto::LocalUser;

use super::{Context, Problems, clip};

/// A passwd entry and whether it can log in; every entry is kept because authorized
/// keys of a `nologin` account still allow port forwarding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub user: LocalUser,
    pub login: bool,
}

const REFUSING_SHELLS: &[&str] = &["nologin", "false", "sync", "halt", "shutdown"];

pub fn collect(ctx: &Context, problems: &mut Problems<'_>) -> Vec<Account> {
    match ctx.read_text("etc/passwd") {
        Ok(Some((_, text))) => {
            let (accounts, bad) = parse_passwd(&text);
            for b in bad {
                problems.push(format!("etc/passwd {b}"));
            }
            accounts
        }
        Ok(None) => {
            problems.push("no etc/passwd");
            Vec::new()
        }
        Err(e) => {
            problems.push(format!("etc/passwd: {e}"));
            Vec::new()
        }
    }
}

/// Parses passwd(5) text; returns the accounts and, per skipped line, `line N: why`.
pub fn parse_passwd(text: &str) -> (Vec<Account>, Vec<String>) {
    let mut accounts = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('+') || line.starts_with('-') {
            problems.push(format!("line {n}: NIS entry {:?} not expanded", clip(line)));
            continue;
        }
        let fields: Vec<&str> = line.split(':').collect();
        let [name, _pw, uid, gid, _gecos, home, shell] = fields[..] else {
            problems.push(format!(
                "line {n}: {} fields instead of 7: {:?}",
                fields.len(),
                clip(line)
            ));
            continue;
        };
        let (Ok(uid), Ok(gid)) = (uid.parse::<u32>(), gid.parse::<u32>()) else {
            problems.push(format!(
                "line {n}: uid or gid is not a number: {:?}",
                clip(line)
            ));
            continue;
        };
        if name.is_empty() {
            problems.push(format!("line {n}: empty user name"));
            continue;
        }
        let shell = if shell.is_empty() { "/bin/sh" } else { shell };
        accounts.push(Account {
            login: can_log_in(shell),
            user: LocalUser {
                name: name.to_owned(),
                uid,
                gid,
                home: home.to_owned(),
                shell: shell.to_owned(),
            },
        });
    }
    (accounts, problems)
}

/// Whether `shell` lets its account log in (see the module comment).
pub fn can_log_in(shell: &str) -> bool {
    let base = shell.rsplit('/').next().unwrap_or(shell);
    !REFUSING_SHELLS.contains(&base)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: &[(&str, u32, bool)], bad: usize) {
        let (accounts, problems) = parse_passwd(text);
        let got: Vec<(&str, u32, bool)> = accounts
            .iter()
            .map(|a| (a.user.name.as_str(), a.user.uid, a.login))
            .collect();
        assert_eq!(got, expected, "{text}");
        assert_eq!(problems.len(), bad, "{problems:?}");
    }

    #[test]
    fn passwd() {
        check(
            "root:x:0:0:root:/root:/bin/bash\n\
             daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
             sync:x:4:65534:sync:/bin:/bin/sync\n\
             git:x:998:998::/home/git:/usr/bin/git-shell\n\
             svc:x:999:999::/srv:/bin/false\n\
             old:x:1001:1001::/home/old:\n",
            &[
                ("root", 0, true),
                ("daemon", 1, false),
                ("sync", 4, false),
                ("git", 998, true),
                ("svc", 999, false),
                ("old", 1001, true),
            ],
            0,
        );
    }

    #[test]
    fn bad_lines_are_problems() {
        check(
            "# comment\n\
             short:x:1\n\
             nonum:x:a:0::/:/bin/sh\n\
             +nisuser::::::\n\
             :x:5:5::/:/bin/sh\n\
             ok:x:1000:1000:Gecos, with: nothing:/home/ok:/bin/zsh\n",
            &[],
            5,
        );
        // A colon in the GECOS field makes 8 fields: refused, as getpwent would misread it.
        check(
            "ok:x:1000:1000:Ok:/home/ok:/bin/zsh\n",
            &[("ok", 1000, true)],
            0,
        );
    }

    #[test]
    fn shells() {
        assert!(can_log_in("/bin/bash"));
        assert!(!can_log_in("/usr/sbin/nologin"));
        assert!(!can_log_in("/sbin/halt"));
        assert!(can_log_in("/usr/bin/fish"));
    }
}
