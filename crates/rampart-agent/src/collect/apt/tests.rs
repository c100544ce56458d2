use super::*;

const SECURITY_INRELEASE: &str = "-----BEGIN PGP SIGNED MESSAGE-----\n\
Hash: SHA256\n\
\n\
Origin: Debian\n\
Label: Debian-Security\n\
Suite: oldstable-security\n\
Version: 12\n\
Codename: bookworm-security\n\
Date: Thu, 26 Nov 2026 21:03:35 UTC\n\
SHA256:\n\
 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855        0 contrib/Contents-amd64\n\
-----BEGIN PGP SIGNATURE-----\n\
\n\
iQIzBAEBCAAdFiEE\n\
-----END PGP SIGNATURE-----\n";

#[test]
fn release_files() {
    let r = parse_release(SECURITY_INRELEASE);
    assert_eq!(r.origin, "Debian");
    assert_eq!(r.label, "Debian-Security");
    assert_eq!(r.suite, "oldstable-security");
    assert_eq!(r.codename, "bookworm-security");
    assert_eq!(r.version, "12");
    assert!(r.is_security());
    assert_eq!(r.default_priority(), 500);
    assert_eq!(r.origin_name(), "Debian-Security:bookworm-security");

    let backports = parse_release(
        "Origin: Debian Backports\nLabel: Debian Backports\nSuite: stable-backports\n\
         Codename: bookworm-backports\nNotAutomatic: yes\nButAutomaticUpgrades: yes\n",
    );
    assert_eq!(backports.default_priority(), 100);
    assert!(!backports.is_security());
    let experimental = parse_release(
        "Origin: Debian\nSuite: experimental\nCodename: rc-buggy\nNotAutomatic: yes\n",
    );
    assert_eq!(experimental.default_priority(), 1);

    let ubuntu =
        parse_release("Origin: Ubuntu\nLabel: Ubuntu\nSuite: jammy-security\nCodename: jammy\n");
    assert!(ubuntu.is_security());
    assert_eq!(ubuntu.origin_name(), "Ubuntu:jammy-security");
    let main =
        parse_release("Origin: Debian\nLabel: Debian\nSuite: oldstable\nCodename: bookworm\n");
    assert_eq!(main.origin_name(), "Debian:bookworm");
}

#[test]
fn packages_files() {
    let text = "Package: bash\nVersion: 5.2.15-2+b8\nArchitecture: amd64\nDescription: shell\n \
                Package: fake continuation line\n\nPackage: tzdata\r\nArchitecture: all\r\nVersion: 2025b-0+deb12u1\r\n\r\n\
                Package: broken\nArchitecture: amd64\n\nPackage: other\nVersion: 1\nArchitecture: amd64";
    let (got, bad) = parse_packages(text, |_| true);
    let got: Vec<(&str, &str, &str)> = got
        .iter()
        .map(|a| (a.name.as_str(), a.version.as_str(), a.arch.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("bash", "5.2.15-2+b8", "amd64"),
            ("tzdata", "2025b-0+deb12u1", "all"),
            ("other", "1", "amd64")
        ]
    );
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(bad[0].contains("broken"), "{bad:?}");
    let (only, _) = parse_packages(text, |n| n == "other");
    assert_eq!(only.len(), 1);
}

#[test]
fn preferences() {
    let (pins, bad) = parse_preferences(
        "# comment\nExplanation: keep node\nPackage: nodejs\nPin: origin deb.nodesource.com\nPin-Priority: 600\n\n\
         Package: *\nPin: release a=bookworm-backports, c=main\nPin-Priority: 990\n\n\
         Package: lib* bash\nPin: version 5.2*\nPin-Priority: 1001\n\n\
         Package: /^x/\nPin: release n=x\nPin-Priority: 1\n\n\
         Package: y\nPin: release stable\nPin-Priority: abc\n\n\
         Package: z\nPin-Priority: 5\n",
    );
    assert_eq!(bad.len(), 3, "{bad:?}");
    assert_eq!(
        pins,
        [
            Pin {
                packages: PinPackages::Names(vec!["nodejs".into()]),
                target: PinTarget::Origin("deb.nodesource.com".into()),
                priority: 600
            },
            Pin {
                packages: PinPackages::All,
                target: PinTarget::Release(vec![
                    ('a', "bookworm-backports".into()),
                    ('c', "main".into())
                ]),
                priority: 990
            },
            Pin {
                packages: PinPackages::Names(vec!["lib*".into(), "bash".into()]),
                target: PinTarget::Version("5.2*".into()),
                priority: 1001
            },
        ]
    );
}

#[test]
fn globs() {
    assert!(glob("*", ""));
    assert!(glob("lib*", "libc6"));
    assert!(glob("5.2*", "5.2.15-2"));
    assert!(glob("a?c", "abc"));
    assert!(!glob("a?c", "ac"));
    assert!(glob("*-security", "bookworm-security"));
    assert!(!glob("bash", "bash2"));
}

fn source(suite: &str, not_auto: bool, but_auto: bool) -> Source {
    Source {
        release: ReleaseInfo {
            origin: "Debian".into(),
            suite: suite.into(),
            codename: suite.into(),
            not_automatic: not_auto,
            but_automatic_upgrades: but_auto,
            ..ReleaseInfo::default()
        },
        host: "deb.debian.org".into(),
        component: "main".into(),
    }
}

fn offer(version: &str, sources: &[usize]) -> Offer {
    Offer {
        version: version.into(),
        arch: "amd64".into(),
        sources: sources.to_vec(),
    }
}

fn installed(version: &str) -> Package {
    Package {
        name: "p".into(),
        version: version.into(),
        arch: Some("amd64".into()),
        source_name: None,
        source_version: None,
        format: PackageFormat::Deb,
    }
}

/// Candidate selection against apt's documented policy (apt_preferences(5) examples).
#[test]
fn candidates() {
    // 0: stable, 1: stable-security, 2: backports (100), 3: experimental (1)
    let sources = [
        source("bookworm", false, false),
        source("bookworm-security", false, false),
        source("bookworm-backports", true, true),
        source("experimental", true, false),
    ];
    let check = |inst: &str, offers: &[Offer], pins: &[Pin], want: Option<&str>| {
        let got = candidate("p", &installed(inst), offers, &sources, pins);
        assert_eq!(
            got.map(|o| o.version),
            want.map(str::to_owned),
            "{inst} {offers:?}"
        );
    };
    // Highest 500 version wins.
    check(
        "1.0",
        &[offer("1.0", &[0]), offer("1.1", &[1])],
        &[],
        Some("1.1"),
    );
    // Backports (100) and experimental (1) do not upgrade a package from stable.
    check(
        "1.0",
        &[offer("1.0", &[0]), offer("2.0", &[2]), offer("3.0", &[3])],
        &[],
        Some("1.0"),
    );
    // ...but a backports package installed from backports follows backports.
    check(
        "2.0",
        &[offer("1.0", &[0]), offer("2.0", &[2]), offer("2.1", &[2])],
        &[],
        Some("2.1"),
    );
    // Installed version only in the status file: a newer 500 version still wins.
    check("0.9", &[offer("1.0", &[0])], &[], Some("1.0"));
    // No downgrade without a pin >= 1000.
    check("2.0", &[offer("1.0", &[0])], &[], Some("2.0"));
    let downgrade = Pin {
        packages: PinPackages::Names(vec!["p".into()]),
        target: PinTarget::Version("1.0".into()),
        priority: 1001,
    };
    check(
        "2.0",
        &[offer("1.0", &[0])],
        std::slice::from_ref(&downgrade),
        Some("1.0"),
    );
    // A generic pin raising backports makes it the candidate.
    let backports_up = Pin {
        packages: PinPackages::All,
        target: PinTarget::Release(vec![('a', "bookworm-backports".into())]),
        priority: 500,
    };
    check(
        "1.0",
        &[offer("1.0", &[0]), offer("2.0", &[2])],
        &[backports_up],
        Some("2.0"),
    );
    // A negative pin on the newer version keeps the installed one.
    let never = Pin {
        packages: PinPackages::Names(vec!["p".into()]),
        target: PinTarget::Version("1.1".into()),
        priority: -1,
    };
    check(
        "1.0",
        &[offer("1.0", &[0]), offer("1.1", &[1])],
        &[never],
        Some("1.0"),
    );
}

proptest::proptest! {
    #[test]
    fn parsers_never_panic(text in "(?s).{0,400}") {
        let _ = parse_release(&text);
        let _ = parse_packages(&text, |_| true);
        let _ = parse_preferences(&text);
    }

    #[test]
    fn field_shaped_input_never_panics(
        lines in proptest::collection::vec("(Package|Version|Architecture|Pin|Pin-Priority|Suite|Codename|NotAutomatic): ?[a-z0-9*/=, .:-]{0,12}|", 0..20)
    ) {
        let text = lines.join("\n");
        let _ = parse_release(&text);
        let _ = parse_packages(&text, |_| true);
        let _ = parse_preferences(&text);
    }

    #[test]
    fn glob_never_panics(p in ".{0,12}", t in ".{0,12}") {
        let _ = glob(&p, &t);
    }
}
