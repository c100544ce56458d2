use super::*;

/// (name, arch, version, source name, source version) of each package, then the line
/// of each problem.
type Expected<'a> = (
    &'a [(&'a str, &'a str, &'a str, &'a str, &'a str)],
    &'a [usize],
);

fn check(text: &str, (packages, problem_lines): Expected<'_>) {
    let parsed = parse_status(text);
    let got: Vec<_> = parsed
        .packages
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.arch.as_deref().unwrap_or(""),
                p.version.as_str(),
                p.source_name.as_deref().unwrap_or(""),
                p.source_version.as_deref().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(got, packages, "packages of {text:?}");
    let lines: Vec<usize> = parsed
        .problems
        .iter()
        .map(|p| {
            p.location
                .strip_prefix("line ")
                .and_then(|n| n.parse().ok())
                .expect("a line location")
        })
        .collect();
    assert_eq!(
        lines, problem_lines,
        "problem lines of {text:?}: {:?}",
        parsed.problems
    );
    assert!(
        parsed
            .packages
            .iter()
            .all(|p| p.format == PackageFormat::Deb)
    );
}

#[test]
fn installed_states() {
    let stanza =
        |status: &str| format!("Package: a\nStatus: {status}\nVersion: 1\nArchitecture: amd64\n");
    for status in [
        "install ok installed",
        "hold ok installed",
        "install  ok   installed",
    ] {
        check(&stanza(status), (&[("a", "amd64", "1", "", "")], &[]));
    }
    for status in [
        "deinstall ok config-files",
        "install ok half-installed",
        "install ok unpacked",
        "install ok half-configured",
        "deinstall ok installed",
        "purge ok not-installed",
        "install reinstreq installed",
        "install ok triggers-pending",
    ] {
        check(&stanza(status), (&[], &[]));
    }
    check(&stanza("installed"), (&[], &[1]));
    check(&stanza("install ok installed extra"), (&[], &[1]));
    // dpkg always writes Status to the status file; a stanza without one is damaged.
    check("Package: a\nVersion: 1\n", (&[], &[1]));
}

#[test]
fn status_d_needs_no_status() {
    let parsed = parse_status_d(
        "Package: a\nVersion: 1\nArchitecture: all\n\nPackage: b\nStatus: deinstall ok config-files\nVersion: 2\n",
    );
    assert_eq!(parsed.packages.len(), 1);
    assert_eq!(parsed.packages[0].name, "a");
    assert!(parsed.problems.is_empty());
}

#[test]
fn fields_and_source() {
    let text = "\
Package: libc6
Status: install ok installed
Priority: optional
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u4
Description: GNU C Library: Shared libraries
 Contains the standard libraries.
 .
 More text.

Package: libc6
Status: install ok installed
Architecture: i386
Source: glibc
Version: 2.36-9+deb12u4

Package: libfoo1
Status: hold ok installed
Architecture: amd64
Source: foo (1.2-3)
Version: 1.2-3+b1

Package: foo-same
status: install ok installed
architecture: all
source: foo-same (1.0)
version: 1.0

Package: bar
Status: install ok installed
Version: 1:2.0
Source: bar
";
    check(
        text,
        (
            &[
                ("libc6", "amd64", "2.36-9+deb12u4", "glibc", ""),
                ("libc6", "i386", "2.36-9+deb12u4", "glibc", ""),
                ("libfoo1", "amd64", "1.2-3+b1", "foo", "1.2-3"),
                ("foo-same", "all", "1.0", "", ""),
                ("bar", "", "1:2.0", "", ""),
            ],
            &[],
        ),
    );
}

#[test]
fn broken_stanzas_are_skipped_and_located() {
    let text = "\
Package: ok1
Status: install ok installed
Version: 1

Package: nocolon
Status: install ok installed
this line has no colon
Version: 1

 continuation first
Package: cont
Status: install ok installed
Version: 1

Package: dup
Package: dup2
Status: install ok installed
Version: 1

Package: multi
Status: install ok installed
Version: 1
 2

Package: noversion
Status: install ok installed

Status: install ok installed
Version: 3

Package: bad source
Status: install ok installed
Version: 1

Package: badsrc
Status: install ok installed
Version: 1
Source: x (1

Package: ok2
Status: install ok installed
Version: 2
";
    check(
        text,
        (
            &[("ok1", "", "1", "", ""), ("ok2", "", "2", "", "")],
            &[7, 10, 16, 23, 25, 28, 31, 35],
        ),
    );
}

#[test]
fn blank_lines_crlf_and_eof() {
    check("", (&[], &[]));
    check("\n\n  \n\t\n", (&[], &[]));
    check(
        "Package: a\r\nStatus: install ok installed\r\nVersion: 1\r\n\r\n",
        (&[("a", "", "1", "", "")], &[]),
    );
    check(
        "Package: a\nStatus: install ok installed\nVersion: 1",
        (&[("a", "", "1", "", "")], &[]),
    );
}

#[test]
fn problems_name_the_package() {
    let parsed = parse_status("Package: zlib1g\nStatus: install ok installed\n");
    assert_eq!(parsed.problems.len(), 1);
    let problem = parsed.problems[0].to_string();
    assert!(
        problem.contains("zlib1g") && problem.contains("no Version"),
        "{problem}"
    );
}

proptest::proptest! {
    #[test]
    fn never_panics(text in ".*", bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
        parse_status(&text);
        parse_status_d(&String::from_utf8_lossy(&bytes));
    }

    /// Junk stanzas appended never cost the good ones.
    #[test]
    fn junk_costs_only_its_stanza(junk in "[^\n]{1,40}") {
        let good = "Package: a\nStatus: install ok installed\nVersion: 1\n";
        let text = format!("{good}\n{junk}\n\n{good}");
        let parsed = parse_status(&text);
        proptest::prop_assert!(parsed.packages.len() >= 2);
    }
}
