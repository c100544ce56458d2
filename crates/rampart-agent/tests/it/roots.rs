//! Reusable test roots: a Rocky-like RPM host and an Alpine host, each built in a
//! directory from real package-manager artefacts, with the facts an agent collecting it
//! must report. The `rampart` crate's end-to-end estate test includes this same file
//! (`#[path]`), so it uses only std, tempfile and external commands (no shell) and nothing
//! else of this test crate.
//!
//! - [`rpm_root`]: packages built by `rpmbuild`, installed into a real rpmdb with
//!   `rpm --initdb` / `rpm -i --justdb`; two repositories made by `createrepo_c` (one
//!   with an `updateinfo.xml` added by `modifyrepo_c`) and their repodata copied to
//!   `var/cache/dnf/<id>-<hash>/repodata`, as `dnf makecache` leaves it; a third,
//!   cached repository disabled in its `.repo` file. Needs rpm, rpmbuild, createrepo_c
//!   and modifyrepo_c (Debian: `rpm`, `createrepo-c`).
//! - [`alpine_root`]: `lib/apk/db/installed`, `etc/apk/repositories` and index archives
//!   `var/cache/apk/APKINDEX.<hash>.tar.gz` made with `tar` and `gzip` (named with
//!   `sha1sum`, as apk names them), plus a stale index that must be ignored.
//!
//! Each builder returns [`ExpectedFacts`]; callers check tool availability first
//! ([`RPM_TOOLS`], [`ALPINE_TOOLS`]).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Tools [`rpm_root`] runs.
pub(crate) const RPM_TOOLS: &[&str] = &["rpm", "rpmbuild", "createrepo_c", "modifyrepo_c"];
/// Tools [`alpine_root`] runs.
pub(crate) const ALPINE_TOOLS: &[&str] = &["tar", "gzip", "sha1sum"];

/// One pending update as the agent must report it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ExpectedUpdate {
    pub(crate) name: String,
    pub(crate) arch: String,
    pub(crate) installed: String,
    pub(crate) candidate: String,
    pub(crate) origin: String,
    pub(crate) security: bool,
}

/// What a collected inventory of the root must say.
#[derive(Clone, Debug)]
pub(crate) struct ExpectedFacts {
    /// `ID` of os-release.
    pub(crate) os_id: String,
    /// Installed packages: (name, arch, version), sorted.
    pub(crate) packages: Vec<(String, String, String)>,
    /// Pending updates, sorted by name then arch.
    pub(crate) updates: Vec<ExpectedUpdate>,
}

fn run(command: &mut Command) -> String {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    assert!(
        out.status.success(),
        "{command:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn write(root: &Path, path: &str, contents: impl AsRef<[u8]>) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, contents).unwrap();
}

fn update(
    name: &str,
    arch: &str,
    installed: &str,
    candidate: &str,
    origin: &str,
    security: bool,
) -> ExpectedUpdate {
    ExpectedUpdate {
        name: name.into(),
        arch: arch.into(),
        installed: installed.into(),
        candidate: candidate.into(),
        origin: origin.into(),
        security,
    }
}

/// (name, epoch, version, release, noarch)
type Rpm = (&'static str, Option<u32>, &'static str, &'static str, bool);

/// Builds one empty package with rpmbuild; returns the .rpm path.
fn build_rpm(work: &Path, (name, epoch, version, release, noarch): Rpm) -> PathBuf {
    let top = work.join("rpmbuild");
    let spec_dir = top.join("SPECS");
    std::fs::create_dir_all(&spec_dir).unwrap();
    let mut spec = format!(
        "%define debug_package %{{nil}}\nName: {name}\nVersion: {version}\nRelease: {release}\n"
    );
    if let Some(e) = epoch {
        spec += &format!("Epoch: {e}\n");
    }
    if noarch {
        spec += "BuildArch: noarch\n";
    }
    spec += "Summary: Rampart test package\nLicense: MIT\n%description\nRampart test package.\n%files\n";
    let path = spec_dir.join(format!("{name}-{version}-{release}.spec"));
    std::fs::write(&path, spec).unwrap();
    run(Command::new("rpmbuild")
        .arg("--define")
        .arg(format!("_topdir {}", top.display()))
        .arg("-bb")
        .arg(&path));
    let arch = if noarch {
        "noarch".to_owned()
    } else {
        rpm_arch()
    };
    let rpm = top
        .join("RPMS")
        .join(&arch)
        .join(format!("{name}-{version}-{release}.{arch}.rpm"));
    assert!(rpm.is_file(), "{} missing", rpm.display());
    rpm
}

/// The architecture rpmbuild builds for on this machine (`x86_64`).
pub(crate) fn rpm_arch() -> String {
    run(Command::new("rpm").args(["--eval", "%{_arch}"]))
        .trim()
        .to_owned()
}

/// Makes a repository of `rpms` in `work/<id>` with createrepo_c, optionally adding
/// `updateinfo` with modifyrepo_c, and copies its repodata where dnf caches it.
fn repository(root: &Path, work: &Path, id: &str, rpms: &[PathBuf], updateinfo: Option<&str>) {
    let repo = work.join(id);
    std::fs::create_dir_all(&repo).unwrap();
    for rpm in rpms {
        std::fs::copy(rpm, repo.join(rpm.file_name().unwrap())).unwrap();
    }
    run(Command::new("createrepo_c").arg("-q").arg(&repo));
    if let Some(xml) = updateinfo {
        let file = work.join(format!("{id}-updateinfo/updateinfo.xml"));
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, xml).unwrap();
        run(Command::new("modifyrepo_c")
            .arg("--mdtype=updateinfo")
            .arg(&file)
            .arg(repo.join("repodata")));
    }
    // dnf names its cache `<repoid>-<16 hex>`; the hash only has to look like one.
    let cache = root.join(format!("var/cache/dnf/{id}-0123456789abcdef/repodata"));
    std::fs::create_dir_all(&cache).unwrap();
    for entry in std::fs::read_dir(repo.join("repodata")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, cache.join(path.file_name().unwrap())).unwrap();
    }
}

fn advisory(id: &str, kind: &str, packages: &[(&str, &str, &str, &str, &str)]) -> String {
    let mut xml = format!(
        "<update from=\"rampart@example.invalid\" status=\"stable\" type=\"{kind}\" version=\"2.0\">\
         <id>{id}</id><title>{id}</title><severity>Important</severity>\
         <issued date=\"2024-05-01 00:00:00\"/><pkglist><collection short=\"c\"><name>c</name>"
    );
    for (name, epoch, version, release, arch) in packages {
        xml += &format!(
            "<package name=\"{name}\" version=\"{version}\" release=\"{release}\" epoch=\"{epoch}\" \
             arch=\"{arch}\"><filename>{name}-{version}-{release}.{arch}.rpm</filename></package>"
        );
    }
    xml + "</collection></pkglist></update>"
}

/// Builds a Rocky-like RPM host under `dir/root`, with its repositories' sources in
/// `dir/work` (`dir/work/<repoid>`, usable as a `file://` baseurl). The root is
/// `dir/root`.
///
/// Installed → available, and why each is (not) an update:
/// - `hello` 1.0-1 → 1.2-1 in `rampart-updates`; security (RAMPART-2024-1 fixes 1.1-1);
/// - `widget` (noarch, Epoch 2) 2:1.0-1 → 2:1.0-2; a bugfix advisory only: other;
/// - `kernel` 6.1.0-1 and 6.2.0-1 (installonly, both installed) → 6.3.0-1, reported
///   against the highest installed; security;
/// - `tilde` 1.0~rc1-1 → 1.0-1 (`~` sorts before the release); other;
/// - `stable` 1.0-1 offered at 1.0-1 only; `late` 1.0-1 whose advisory fixes 9.0-1,
///   above anything offered: an update to 1.1-1, but other;
/// - `hidden` 1.0-1: 9.9-1 is offered only by `rampart-disabled`, cached but
///   `enabled=0`: no update.
pub(crate) fn rpm_root(dir: &Path) -> ExpectedFacts {
    let root = dir.join("root");
    let work = dir.join("work");
    std::fs::create_dir_all(&root).unwrap();
    let arch = rpm_arch();
    let installed: Vec<Rpm> = vec![
        ("hello", None, "1.0", "1", false),
        ("widget", Some(2), "1.0", "1", true),
        ("kernel", None, "6.1.0", "1", false),
        ("kernel", None, "6.2.0", "1", false),
        ("tilde", None, "1.0~rc1", "1", false),
        ("stable", None, "1.0", "1", false),
        ("late", None, "1.0", "1", false),
        ("hidden", None, "1.0", "1", false),
    ];
    let base: Vec<Rpm> = vec![
        ("hello", None, "1.0", "1", false),
        ("stable", None, "1.0", "1", false),
        ("tilde", None, "1.0", "1", false),
    ];
    let updates: Vec<Rpm> = vec![
        ("hello", None, "1.1", "1", false),
        ("hello", None, "1.2", "1", false),
        ("widget", Some(2), "1.0", "2", true),
        ("kernel", None, "6.3.0", "1", false),
        ("late", None, "1.1", "1", false),
    ];
    let disabled: Vec<Rpm> = vec![("hidden", None, "9.9", "1", false)];
    let build =
        |list: &[Rpm]| -> Vec<PathBuf> { list.iter().map(|r| build_rpm(&work, *r)).collect() };

    let rpm = || {
        let mut c = Command::new("rpm");
        c.arg("--root")
            .arg(&root)
            .arg("--define")
            .arg("_dbpath /var/lib/rpm");
        c
    };
    run(rpm().arg("--initdb"));
    run(rpm()
        .args(["-i", "--nodeps", "--justdb", "--ignorearch"])
        .args(build(&installed)));

    let updateinfo = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<updates>{}{}{}{}</updates>\n",
        advisory(
            "RAMPART-2024-1",
            "security",
            &[("hello", "0", "1.1", "1", &arch)]
        ),
        advisory(
            "RAMPART-2024-2",
            "bugfix",
            &[("widget", "2", "1.0", "2", "noarch")]
        ),
        advisory(
            "RAMPART-2024-3",
            "security",
            &[("kernel", "0", "6.3.0", "1", &arch)]
        ),
        advisory(
            "RAMPART-2024-4",
            "security",
            &[("late", "0", "9.0", "1", &arch)]
        ),
    );
    repository(&root, &work, "rampart-base", &build(&base), None);
    repository(
        &root,
        &work,
        "rampart-updates",
        &build(&updates),
        Some(&updateinfo),
    );
    repository(&root, &work, "rampart-disabled", &build(&disabled), None);
    let mut repos = String::new();
    for (id, enabled) in [
        ("rampart-base", 1),
        ("rampart-updates", 1),
        ("rampart-disabled", 0),
    ] {
        repos += &format!(
            "[{id}]\nname={id}\nbaseurl=file://{}\nenabled={enabled}\ngpgcheck=0\n\n",
            work.join(id).display()
        );
    }
    write(&root, "etc/yum.repos.d/rampart.repo", repos);
    write(
        &root,
        "etc/os-release",
        "NAME=\"Rocky Linux\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.3\"\n",
    );

    let mut packages: Vec<(String, String, String)> = installed
        .iter()
        .map(|(name, epoch, version, release, noarch)| {
            let evr = match epoch {
                Some(e) => format!("{e}:{version}-{release}"),
                None => format!("{version}-{release}"),
            };
            let a = if *noarch { "noarch" } else { &arch };
            (name.to_string(), a.to_owned(), evr)
        })
        .collect();
    packages.sort();
    let a = arch.as_str();
    ExpectedFacts {
        os_id: "rocky".into(),
        packages,
        updates: vec![
            update("hello", a, "1.0-1", "1.2-1", "rampart-updates", true),
            update("kernel", a, "6.2.0-1", "6.3.0-1", "rampart-updates", true),
            update("late", a, "1.0-1", "1.1-1", "rampart-updates", false),
            update("tilde", a, "1.0~rc1-1", "1.0-1", "rampart-base", false),
            update(
                "widget",
                "noarch",
                "2:1.0-1",
                "2:1.0-2",
                "rampart-updates",
                false,
            ),
        ],
    }
}

/// Writes `APKINDEX.tar.gz` content for `records` at `dest`: a signature segment then
/// the index segment, each a gzip member, as apk-tools publishes them.
fn apk_index(work: &Path, dest: &Path, description: &str, records: &str) {
    let sig = work.join("sig");
    let idx = work.join("idx");
    std::fs::create_dir_all(&sig).unwrap();
    std::fs::create_dir_all(&idx).unwrap();
    std::fs::write(
        sig.join(".SIGN.RSA.rampart-test.rsa.pub"),
        b"not a signature",
    )
    .unwrap();
    std::fs::write(idx.join("DESCRIPTION"), description).unwrap();
    std::fs::write(idx.join("APKINDEX"), records).unwrap();
    let segment = |dir: &Path, name: &str| -> Vec<u8> {
        let tar = work.join(format!("{name}.tar"));
        run(Command::new("tar")
            .arg("-cf")
            .arg(&tar)
            .arg("-C")
            .arg(dir)
            .arg(if name == "sig" {
                ".SIGN.RSA.rampart-test.rsa.pub"
            } else {
                "DESCRIPTION"
            })
            .args((name == "idx").then_some("APKINDEX")));
        run(Command::new("gzip").arg("-nf").arg(&tar));
        std::fs::read(work.join(format!("{name}.tar.gz"))).unwrap()
    };
    let mut bytes = segment(&sig, "sig");
    bytes.extend(segment(&idx, "idx"));
    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
    std::fs::write(dest, bytes).unwrap();
}

/// apk's cache name of a repository's index: the first 4 bytes of SHA-1 of the URL.
fn apk_cache_name(work: &Path, url: &str) -> String {
    let file = work.join("url");
    std::fs::write(&file, url).unwrap();
    let out = run(Command::new("sha1sum").arg(&file));
    format!("APKINDEX.{}.tar.gz", &out[..8])
}

fn apk_record(name: &str, version: &str, arch: &str, origin: &str) -> String {
    format!(
        "C:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=\nP:{name}\nV:{version}\nA:{arch}\nS:1000\nI:2000\nT:{name}\nU:https://example.invalid\nL:MIT\no:{origin}\nm:Rampart <test@example.invalid>\nt:1700000000\n\n"
    )
}

/// Builds an Alpine 3.20 host under `dir/root`.
///
/// - `musl` 1.2.5-r0 → 1.2.5-r1 in `main`;
/// - `libcrypto3` 3.3.1-r0 → 3.3.2-r0 in `community` (main has 3.3.1-r3);
/// - `busybox` 1.36.1-r29 offered at the same version: no update;
/// - `zlib` 1.3.1-r0: 9.9-r0 only in a stale index no repository names: no update.
///
/// Every apk update's category is `Unknown` (`security: false` here): apk keeps no
/// security metadata on the host; the server classes them from advisories.
pub(crate) fn alpine_root(dir: &Path) -> ExpectedFacts {
    let root = dir.join("root");
    let work = dir.join("apkwork");
    std::fs::create_dir_all(&work).unwrap();
    let installed = [
        ("musl", "1.2.5-r0", "musl"),
        ("libcrypto3", "3.3.1-r0", "openssl"),
        ("busybox", "1.36.1-r29", "busybox"),
        ("zlib", "1.3.1-r0", "zlib"),
    ];
    let db: String = installed
        .iter()
        .map(|(n, v, o)| apk_record(n, v, "x86_64", o))
        .collect();
    write(&root, "lib/apk/db/installed", db);
    write(
        &root,
        "etc/os-release",
        "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME=\"Alpine Linux v3.20\"\n",
    );
    let main = "https://dl-cdn.alpinelinux.org/alpine/v3.20/main";
    let community = "https://dl-cdn.alpinelinux.org/alpine/v3.20/community";
    write(
        &root,
        "etc/apk/repositories",
        format!("# Rampart test\n{main}\n{community}\n"),
    );
    let cache = root.join("var/cache/apk");
    let main_records = [
        apk_record("musl", "1.2.5-r1", "x86_64", "musl"),
        apk_record("libcrypto3", "3.3.1-r3", "x86_64", "openssl"),
        apk_record("busybox", "1.36.1-r29", "x86_64", "busybox"),
        apk_record("zlib", "1.3.1-r0", "x86_64", "zlib"),
    ]
    .concat();
    apk_index(
        &work,
        &cache.join(apk_cache_name(&work, main)),
        "v3.20.3-100-gmain",
        &main_records,
    );
    apk_index(
        &work,
        &cache.join(apk_cache_name(&work, community)),
        "v3.20.3-100-gcommunity",
        &apk_record("libcrypto3", "3.3.2-r0", "x86_64", "openssl"),
    );
    apk_index(
        &work,
        &cache.join("APKINDEX.00000000.tar.gz"),
        "stale",
        &apk_record("zlib", "9.9-r0", "x86_64", "zlib"),
    );
    let mut packages: Vec<(String, String, String)> = installed
        .iter()
        .map(|(n, v, _)| (n.to_string(), "x86_64".to_owned(), v.to_string()))
        .collect();
    packages.sort();
    ExpectedFacts {
        os_id: "alpine".into(),
        packages,
        updates: vec![
            update(
                "libcrypto3",
                "x86_64",
                "3.3.1-r0",
                "3.3.2-r0",
                community,
                false,
            ),
            update("musl", "x86_64", "1.2.5-r0", "1.2.5-r1", main, false),
        ],
    }
}
