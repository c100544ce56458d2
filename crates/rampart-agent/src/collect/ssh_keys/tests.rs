use super::*;

const ED: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIFGbQFe/iLk4S9MMuEm4yEpWN6x6vG2ZglzcAzPH88tZ";
const ED_FP: &str = "SHA256:b0MQf1rVgvOUts+RttMgSTVSgFgvOrl0xcGpPuxJgwo";
const EC: &str = "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBHPMHuPHPeRmqs4vSJXq7XojzoDwbbC52JWT2N+NSSLh5tUMWUQ2yrJ0kXEQt8LygQ0njLexwpluoSNqnk5oxIU=";
const EC_FP: &str = "SHA256:mpBLwfCKNSGRgCrTt7wm0cs60CArB/GxgQRjMZwJiVE";

/// Fingerprints above were printed by `ssh-keygen -lf` for the same keys.
fn check(line: &str, expected: Option<(&str, &str, &str, &[&str])>) {
    let got = parse_line(line).unwrap_or_else(|e| panic!("{line:?}: {e}"));
    let got = got.as_ref().map(|k| {
        (
            k.key_type.as_str(),
            k.fingerprint.as_str(),
            k.comment.as_str(),
            k.options.iter().map(String::as_str).collect::<Vec<_>>(),
        )
    });
    let expected = expected.map(|(t, f, c, o)| (t, f, c, o.to_vec()));
    assert_eq!(got, expected, "{line:?}");
}

fn bad(line: &str, why: &str) {
    let err = parse_line(line).expect_err(line);
    assert!(err.contains(why), "{line:?}: {err}");
}

#[test]
fn plain_keys() {
    check("", None);
    check("   # a comment", None);
    check(
        &format!("ssh-ed25519 {ED} alice@laptop"),
        Some(("ssh-ed25519", ED_FP, "alice@laptop", &[])),
    );
    check(
        &format!("ecdsa-sha2-nistp256 {EC}"),
        Some(("ecdsa-sha2-nistp256", EC_FP, "", &[])),
    );
    // Padding is optional; comments may contain blanks; tabs separate fields too.
    check(
        &format!(
            "ecdsa-sha2-nistp256\t{}  deploy key for  ci ",
            EC.trim_end_matches('=')
        ),
        Some(("ecdsa-sha2-nistp256", EC_FP, "deploy key for  ci", &[])),
    );
}

#[test]
fn options() {
    check(
        &format!("no-pty,from=\"10.0.0.0/8,192.168.1.1\" ssh-ed25519 {ED} a"),
        Some(("ssh-ed25519", ED_FP, "a", &["no-pty", "from"])),
    );
    // Quoted values may hold blanks, commas and escaped quotes.
    check(
        &format!(
            "command=\"echo \\\"hi, there\\\" && ls -l\",environment=\"A=b c\",NO-X11-FORWARDING ssh-ed25519 {ED}"
        ),
        Some((
            "ssh-ed25519",
            ED_FP,
            "",
            &["command", "environment", "no-x11-forwarding"],
        )),
    );
    check(
        &format!("restrict,port-forwarding,permitopen=\"host:22\"\tssh-ed25519 {ED} x y"),
        Some((
            "ssh-ed25519",
            ED_FP,
            "x y",
            &["restrict", "port-forwarding", "permitopen"],
        )),
    );
}

#[test]
fn malformed_lines() {
    bad(
        "command=\"unterminated ssh-ed25519 AAAA",
        "unterminated quote",
    );
    bad("no-pty", "options but no key");
    bad("no-pty ssh-foo AAAA", "unknown key type");
    bad("ssh-ed25519", "without key data");
    bad("ssh-ed25519 !!!notbase64", "not base64");
    bad(&format!("ssh-rsa {ED}"), "line says ssh-rsa");
    bad("ssh-ed25519 AAAA", "too short");
    bad("2048 65537 12345 old@host", "protocol 1");
    bad(
        &format!("bad option,x ssh-ed25519 {ED}"),
        "unknown key type",
    );
    bad(&format!("no pty ssh-ed25519 {ED}"), "unknown key type");
    bad(&format!("no&pty ssh-ed25519 {ED}"), "bad option");
}

#[test]
fn expand_tokens() {
    assert_eq!(
        expand(".ssh/authorized_keys", "/home/a", "a"),
        "/home/a/.ssh/authorized_keys"
    );
    assert_eq!(
        expand("/etc/ssh/keys/%u", "/home/a", "a"),
        "/etc/ssh/keys/a"
    );
    assert_eq!(expand("%h/.ssh/k%%", "/root/", "root"), "/root//.ssh/k%");
    assert_eq!(expand("k", "/", "r"), "/k");
}

proptest::proptest! {
    #[test]
    fn never_panics(line in ".{0,200}") {
        let _ = parse_line(&line);
    }

    #[test]
    fn never_panics_on_option_like_input(line in "[a-z=\",\\\\ ]{0,40}( ssh-ed25519 [A-Za-z0-9+/=]{0,80})?") {
        let _ = parse_line(&line);
    }
}
