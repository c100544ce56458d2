//! Fake roots built in a temporary directory from this machine's real files (its dpkg
//! status database, keys made by the real ssh-keygen), inventoried as an image would be.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;

use crate::support::{require, run};

fn write(root: &Path, path: &str, text: &str) {
    let p = root.join(path);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

/// Copies the real `/var/lib/dpkg/status` into a fake root and checks the package count
/// against the real `dpkg-query -W` over the real database; the rest of the fake root
/// checks that image roots never pick up this machine's live facts.
#[test]
fn fake_root_from_real_dpkg_status() {
    if !require("dpkg-query") || !Path::new("/var/lib/dpkg/status").is_file() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
    fs::copy("/var/lib/dpkg/status", root.join("var/lib/dpkg/status")).unwrap();
    write(
        root,
        "usr/lib/os-release",
        "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n",
    );
    write(root, "etc/hostname", "image-host\n");
    // The absolute link every systemd distribution ships: followed inside the root.
    symlink("/usr/lib/os-release", root.join("etc/os-release")).unwrap();
    write(root, "etc/machine-id", "0123456789abcdef0123456789abcdef\n");
    write(root, "run/reboot-required", "");
    write(
        root,
        "run/reboot-required.pkgs",
        "libc6\nlinux-image-amd64\nlibc6\n",
    );
    symlink("/run", root.join("var/run")).unwrap();

    let out = run(Command::new("dpkg-query").args(["-W", "-f", "${db:Status-Abbrev}\n"]));
    let installed = out
        .lines()
        .filter(|l| l.starts_with("ii") || l.starts_with("hi"))
        .count();

    let inv = rampart_agent::collect::collect(root, 42).unwrap();
    let s = &inv.state;
    assert_eq!(s.packages.len(), installed);
    assert_eq!(s.host.hostname, "image-host");
    assert_eq!(
        s.host.machine_id.as_deref(),
        Some("0123456789abcdef0123456789abcdef")
    );
    assert_eq!(s.host.os.ecosystem.as_deref(), Some("Debian:12"));
    // dpkg's own package says the native architecture, as `dpkg --print-architecture`.
    let native = run(Command::new("dpkg").arg("--print-architecture"));
    assert_eq!(s.host.arch.as_deref(), Some(native.trim()));
    assert!(s.host.reboot_required);
    assert_eq!(
        s.host.reboot_required_packages,
        ["libc6", "linux-image-amd64"]
    );
    // Live-only facts stay empty for an image.
    assert_eq!(
        (&s.host.kernel, inv.uptime_secs, &s.sshd),
        (&None, None, &None)
    );
    assert!(s.listening.is_empty());
    assert_eq!(inv.observed_at, 42);
    // No apt lists in the image: said, not silently "up to date".
    assert!(
        s.problems
            .iter()
            .any(|p| p.collector == "updates" && p.message.contains("apt-get update never ran")),
        "{:#?}",
        s.problems
    );
}

/// Keys made by the real ssh-keygen, fingerprinted by the agent and by `ssh-keygen -lf`.
#[test]
fn authorized_keys_fingerprints_equal_ssh_keygen() {
    if !require("ssh-keygen") {
        return;
    }
    let keys = tempfile::tempdir().unwrap();
    let mut lines = Vec::new();
    let mut expected = Vec::new();
    for (i, kind) in ["ed25519", "ecdsa", "rsa"].into_iter().enumerate() {
        let file = keys.path().join(format!("k{i}"));
        let comment = format!("user{i}@host {kind}");
        run(Command::new("ssh-keygen")
            .args(["-q", "-t", kind, "-N", "", "-C", &comment, "-f"])
            .arg(&file));
        let public = fs::read_to_string(file.with_extension("pub")).unwrap();
        let listed = run(Command::new("ssh-keygen")
            .arg("-lf")
            .arg(file.with_extension("pub")));
        // `bits SHA256:… comment (TYPE)`
        let fingerprint = listed.split_whitespace().nth(1).unwrap().to_owned();
        expected.push((fingerprint, comment));
        let options = [
            "",
            "no-pty,from=\"10.0.0.1, 10.0.0.2\" ",
            "command=\"echo \\\"a, b\\\"\",restrict ",
        ][i];
        lines.push(format!("{options}{}", public.trim()));
    }
    lines.insert(1, "# comment".into());
    lines.push("ssh-ed25519 not-base64!".into());

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "var/lib/dpkg/status", "");
    write(
        root,
        "etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n\
         svc:x:999:999::/srv/svc:/usr/sbin/nologin\nmallory:x:1001:1001::/home/mallory:/bin/sh\n",
    );
    write(
        root,
        "home/alice/.ssh/authorized_keys",
        &(lines.join("\n") + "\n"),
    );
    write(root, "srv/svc/.ssh/authorized_keys2", &lines[0]);
    // A link pointing outside: resolved inside the root, where it does not exist.
    write(keys.path(), "outside", &lines[0]);
    fs::create_dir_all(root.join("home/mallory/.ssh")).unwrap();
    symlink(
        keys.path().join("outside"),
        root.join("home/mallory/.ssh/authorized_keys"),
    )
    .unwrap();

    let inv = rampart_agent::collect::collect(root, 0).unwrap();
    let s = &inv.state;
    let alice: Vec<(String, String)> = s
        .ssh_keys
        .iter()
        .filter(|k| k.user == "alice")
        .map(|k| (k.fingerprint.clone(), k.comment.clone()))
        .collect();
    assert_eq!(alice, expected);
    let options: Vec<&Vec<String>> = s
        .ssh_keys
        .iter()
        .filter(|k| k.user == "alice")
        .map(|k| &k.options)
        .collect();
    assert_eq!(
        options,
        [
            &vec![],
            &vec!["no-pty".to_owned(), "from".to_owned()],
            &vec!["command".to_owned(), "restrict".to_owned()]
        ]
    );
    // A nologin account's keys still count (port forwarding); it is not a login user.
    assert!(
        s.ssh_keys
            .iter()
            .any(|k| k.user == "svc" && k.file == "srv/svc/.ssh/authorized_keys2")
    );
    assert!(!s.users.iter().any(|u| u.name == "svc"));
    assert!(
        !s.ssh_keys.iter().any(|k| k.user == "mallory"),
        "followed a link out of the root"
    );
    let bad: Vec<&str> = s
        .problems
        .iter()
        .filter(|p| p.collector == "ssh_keys")
        .map(|p| p.message.as_str())
        .collect();
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(
        bad[0].starts_with("home/alice/.ssh/authorized_keys line 5:"),
        "{bad:?}"
    );
    // The key material never appears in the inventory.
    let json = serde_json::to_string(&inv).unwrap();
    let blob = lines[0].split_whitespace().nth(1).unwrap();
    assert!(!json.contains(blob));
}

/// The binary itself: exit 2 and a clear message for a missing root; JSON on stdout
/// otherwise that reads back as the wire type.
#[test]
fn binary_inventory_command() {
    let bin = env!("CARGO_BIN_EXE_rampart-agent");
    let out = Command::new(bin)
        .args(["inventory", "--root", "/does/not/exist"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/does/not/exist"));

    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "var/lib/dpkg/status",
        "Package: a\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\n",
    );
    let out = Command::new(bin)
        .args(["inventory", "--root"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let inv: rampart_proto::Inventory = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(inv.state.packages.len(), 1);
    assert_eq!(
        out.stdout.iter().filter(|b| **b == b'\n').count(),
        1,
        "compact JSON, one line"
    );
}
