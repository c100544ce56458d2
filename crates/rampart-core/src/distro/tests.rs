use super::*;

fn check_eco(eco: &str, expected: Option<(&str, Option<&str>)>) {
    let got = Release::from_osv_ecosystem(eco);
    let got = got.as_ref().map(|r| (r.to_string(), r.stream.clone()));
    let expected = expected.map(|(d, s)| (d.to_owned(), s.map(str::to_owned)));
    assert_eq!(
        got.map(|(d, s)| (d.split(" (").next().unwrap().to_owned(), s)),
        expected,
        "{eco}"
    );
}

#[test]
fn osv_ecosystems() {
    check_eco("Debian:12", Some(("Debian:12", None)));
    check_eco("Debian:7", Some(("Debian:7", None)));
    check_eco("Ubuntu:22.04:LTS", Some(("Ubuntu:22.04", None)));
    check_eco("Ubuntu:24.10", Some(("Ubuntu:24.10", None)));
    check_eco("Ubuntu:Pro:14.04:LTS", Some(("Ubuntu:14.04", Some("pro"))));
    check_eco(
        "Ubuntu:Pro:FIPS:20.04:LTS",
        Some(("Ubuntu:20.04", Some("pro-fips"))),
    );
    check_eco("Alpine:v3.19", Some(("Alpine:v3.19", None)));
    check_eco("AlmaLinux:9", Some(("AlmaLinux:9", None)));
    check_eco("Rocky Linux:8", Some(("Rocky Linux:8", None)));
    check_eco(
        "Red Hat:enterprise_linux:9::appstream",
        Some(("Red Hat:9", None)),
    );
    check_eco(
        "Red Hat:rhel_eus:9.2::baseos",
        Some(("Red Hat:9", Some("rhel_eus:9.2"))),
    );
    check_eco(
        "SUSE:Linux Enterprise Server 15 SP5",
        Some(("SUSE:15.5", None)),
    );
    check_eco(
        "SUSE:Linux Enterprise Module for Basesystem 15 SP5",
        Some(("SUSE:15.5", None)),
    );
    check_eco(
        "SUSE:Linux Enterprise Server 12 SP5-LTSS",
        Some(("SUSE:12.5", Some("Linux Enterprise Server LTSS"))),
    );
    check_eco(
        "SUSE:Linux Enterprise Micro 5.5",
        Some(("SUSE:5.5", Some("Linux Enterprise Micro"))),
    );
    check_eco("openSUSE:Leap 15.5", Some(("openSUSE:15.5", None)));
    check_eco("openSUSE:Tumbleweed", Some(("openSUSE:tumbleweed", None)));
    check_eco("PyPI", None);
    check_eco("npm", None);
    check_eco("Debian", None);
}

fn check_os(text: &str, expected: Result<&str, &str>) {
    let got = OsRelease::parse(text)
        .release()
        .map(|r| r.to_string())
        .map_err(|e| e.to_string());
    match (got, expected) {
        (Ok(g), Ok(e)) => assert_eq!(g, e),
        (Err(g), Err(e)) => assert!(g.contains(e), "{g:?} should mention {e:?}"),
        (g, e) => panic!("{text:?}: got {g:?}, expected {e:?}"),
    }
}

#[test]
fn os_release_to_release() {
    check_os(
        "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n",
        Ok("Debian:12"),
    );
    check_os("ID=debian\nVERSION_CODENAME=trixie\n", Ok("Debian:13"));
    check_os(
        "NAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"22.04\"\n",
        Ok("Ubuntu:22.04"),
    );
    check_os("ID=alpine\nVERSION_ID=3.19.1\n", Ok("Alpine:v3.19"));
    check_os("ID=\"almalinux\"\nVERSION_ID=\"9.3\"\n", Ok("AlmaLinux:9"));
    check_os("ID=\"rocky\"\nVERSION_ID=\"8.9\"\n", Ok("Rocky Linux:8"));
    check_os("ID=\"rhel\"\nVERSION_ID=\"9.4\"\n", Ok("Red Hat:9"));
    check_os("ID=\"sles\"\nVERSION_ID=\"15.5\"\n", Ok("SUSE:15.5"));
    check_os(
        "ID=\"opensuse-leap\"\nVERSION_ID=\"15.5\"\n",
        Ok("openSUSE:15.5"),
    );
    check_os(
        "ID=opensuse-tumbleweed\nVERSION_ID=\"20240101\"\n",
        Ok("openSUSE:tumbleweed"),
    );
    check_os("ID=gentoo\n", Err("not supported"));
    check_os("VERSION_ID=1\n", Err("no ID"));
    check_os("ID=ubuntu\n", Err("VERSION_ID"));
}

#[test]
fn os_release_quoting_and_junk() {
    let os = OsRelease::parse(
        "# comment\nID='debian'\ngarbage line\nPRETTY_NAME=\"Debian \\\"GNU\\\"\"\nID_LIKE=\"rhel fedora\"\n",
    );
    assert_eq!(os.id, "debian");
    assert_eq!(os.pretty_name.as_deref(), Some("Debian \"GNU\""));
    assert_eq!(os.id_like, vec!["rhel", "fedora"]);
}
