//! sshd's effective configuration, as `sshd -T` prints it after applying every include,
//! default and `Match`-less setting. Only on a live root (sshd reads the running system's
//! `/etc/ssh`), only when an sshd binary exists, run directly (no shell) with a deadline
//! so a wedged sshd never stalls the agent.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{Context, Problems, clip};

/// Where distributions install sshd.
const SSHD: &[&str] = &["/usr/sbin/sshd", "/sbin/sshd", "/usr/local/sbin/sshd"];
const DEADLINE: Duration = Duration::from_secs(5);

/// Keyword → values, one entry per output line (see [`parse`]); `None` when not live,
/// sshd is absent, or `sshd -T` failed (then with a problem).
pub fn collect(
    ctx: &Context,
    problems: &mut Problems<'_>,
) -> Option<BTreeMap<String, Vec<String>>> {
    if !ctx.is_live() {
        return None;
    }
    let sshd = SSHD.iter().find(|p| Path::new(p).is_file())?;
    match run(sshd) {
        Ok(out) => {
            let (settings, bad) = parse(&out);
            for b in bad {
                problems.push(format!("sshd -T output {b}"));
            }
            Some(settings)
        }
        Err(why) => {
            problems.push(format!("{sshd} -T: {why}"));
            None
        }
    }
}

/// Runs `sshd -T` and returns its stdout, or why not.
fn run(sshd: &str) -> Result<String, String> {
    let mut child = Command::new(sshd)
        .arg("-T")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    // Read both pipes on threads so a large output never blocks the child while we wait.
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stdout.read_to_end(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr.read_to_end(&mut s);
        s
    });
    let deadline = Instant::now() + DEADLINE;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("no answer within {} s; killed", DEADLINE.as_secs()));
            }
            Err(e) => return Err(e.to_string()),
        }
    };
    let out = out.join().unwrap_or_default();
    let err = err.join().unwrap_or_default();
    if !status.success() {
        let err = String::from_utf8_lossy(&err);
        return Err(format!(
            "{status}: {}",
            clip(err.lines().next().unwrap_or(""))
        ));
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Parses `sshd -T` output: `keyword value…` lines. Keywords are lowercase already;
/// a keyword printed on several lines (`hostkey`, `subsystem`, `acceptenv`) collects
/// one entry per line, each the rest of its line, so multi-word values such as
/// `subsystem sftp /usr/lib/openssh/sftp-server` stay unambiguous.
pub fn parse(text: &str) -> (BTreeMap<String, Vec<String>>, Vec<String>) {
    let mut settings: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (keyword, value) = line.split_once([' ', '\t']).unwrap_or((line, ""));
        if !keyword.bytes().all(|b| b.is_ascii_alphanumeric()) {
            problems.push(format!("line {}: not a setting: {:?}", i + 1, clip(line)));
            continue;
        }
        settings
            .entry(keyword.to_ascii_lowercase())
            .or_default()
            .push(value.trim().to_owned());
    }
    (settings, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sshd_t_output() {
        let (s, bad) = parse(
            "port 22\n\
             addressfamily any\n\
             listenaddress [::]:22\n\
             listenaddress 0.0.0.0:22\n\
             permitrootlogin without-password\n\
             ciphers chacha20-poly1305@openssh.com,aes128-ctr\n\
             subsystem sftp /usr/lib/openssh/sftp-server\n\
             authorizedkeysfile .ssh/authorized_keys .ssh/authorized_keys2\n\
             banner none\n\
             emptykey\n\
             Weird-line: x\n",
        );
        assert_eq!(s["port"], ["22"]);
        assert_eq!(s["listenaddress"], ["[::]:22", "0.0.0.0:22"]);
        assert_eq!(s["subsystem"], ["sftp /usr/lib/openssh/sftp-server"]);
        assert_eq!(
            s["authorizedkeysfile"],
            [".ssh/authorized_keys .ssh/authorized_keys2"]
        );
        assert_eq!(s["emptykey"], [""]);
        assert_eq!(bad.len(), 1, "{bad:?}");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "(?s).{0,300}") {
            let _ = parse(&text);
        }
    }
}
