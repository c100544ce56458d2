//! Helpers for the integration tests: finding the real tools they compare against, and
//! building roots with real package databases in temporary directories.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rampart_core::package::{Package, PackageFormat};

/// Whether `tool` is on PATH. Missing under CI is a failure (CI installs it, see
/// `.ci/run`); on a developer machine the test is skipped, saying why.
pub(crate) fn require(tool: &str) -> bool {
    let found = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
        .unwrap_or(false);
    if !found {
        if std::env::var_os("CI").is_some() {
            panic!("CI is set but `{tool}` is not installed; .ci/run must install it");
        }
        eprintln!("skipping: `{tool}` is not installed (set CI=1 to make this a failure)");
    }
    found
}

/// Runs a command to completion and returns its stdout; panics with its stderr on failure.
pub(crate) fn run(command: &mut Command) -> String {
    let Output {
        status,
        stdout,
        stderr,
    } = command
        .output()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    assert!(
        status.success(),
        "{command:?} failed ({status}):\n{}",
        String::from_utf8_lossy(&stderr)
    );
    String::from_utf8(stdout).expect("UTF-8 output")
}

/// (name, arch, version, source name, source version): what the tests compare.
pub(crate) type Row = (String, String, String, String, String);

pub(crate) fn rows(packages: &[Package], format: PackageFormat) -> Vec<Row> {
    let mut rows: Vec<Row> = packages
        .iter()
        .filter(|p| p.format == format)
        .map(|p| {
            (
                p.name.clone(),
                p.arch.clone().unwrap_or_default(),
                p.version.clone(),
                p.source_name.clone().unwrap_or_default(),
                p.source_version.clone().unwrap_or_default(),
            )
        })
        .collect();
    rows.sort();
    rows
}

/// A spec file for `rpmbuild -bb`: a package with no files, so builds take milliseconds.
pub(crate) struct Spec {
    pub(crate) name: &'static str,
    pub(crate) epoch: Option<u32>,
    pub(crate) version: &'static str,
    pub(crate) release: &'static str,
    pub(crate) noarch: bool,
    /// Extra lines after `%description` (subpackages, long descriptions).
    pub(crate) extra: String,
}

impl Spec {
    pub(crate) fn new(name: &'static str, version: &'static str, release: &'static str) -> Spec {
        Spec {
            name,
            epoch: None,
            version,
            release,
            noarch: false,
            extra: String::new(),
        }
    }

    fn text(&self) -> String {
        let mut s = String::from("%define debug_package %{nil}\n");
        s += &format!(
            "Name: {}\nVersion: {}\nRelease: {}\n",
            self.name, self.version, self.release
        );
        if let Some(e) = self.epoch {
            s += &format!("Epoch: {e}\n");
        }
        if self.noarch {
            s += "BuildArch: noarch\n";
        }
        s += "Summary: Rampart test package\nLicense: MIT\n%description\nRampart test package.\n%files\n";
        s += &self.extra;
        s
    }
}

/// A root directory whose RPM database is made by the real rpm.
pub(crate) struct RpmRoot {
    pub(crate) dir: tempfile::TempDir,
    /// rpm's database directory inside the root (`/var/lib/rpm`).
    pub(crate) dbpath: &'static str,
}

impl RpmRoot {
    /// Builds the specs with rpmbuild and installs the packages with `rpm -i --justdb`
    /// (the database only: there are no files to install).
    pub(crate) fn new(dbpath: &'static str, specs: &[Spec]) -> RpmRoot {
        let dir = tempfile::tempdir().unwrap();
        let top = dir.path().join("rpmbuild");
        let root = dir.path().join("root");
        std::fs::create_dir_all(top.join("SPECS")).unwrap();
        std::fs::create_dir_all(&root).unwrap();
        for spec in specs {
            let path = top.join("SPECS").join(format!("{}.spec", spec.name));
            std::fs::write(&path, spec.text()).unwrap();
            run(Command::new("rpmbuild")
                .arg("--define")
                .arg(format!("_topdir {}", top.display()))
                .arg("-bb")
                .arg(&path));
        }
        let this = RpmRoot { dir, dbpath };
        run(this.rpm().arg("--initdb"));
        let rpms = find_rpms(&top.join("RPMS"));
        assert!(!rpms.is_empty());
        run(this
            .rpm()
            .args(["-i", "--nodeps", "--justdb", "--ignorearch"])
            .args(&rpms));
        this
    }

    pub(crate) fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// `rpm` aimed at this root's database.
    pub(crate) fn rpm(&self) -> Command {
        let mut command = Command::new("rpm");
        command
            .arg("--root")
            .arg(self.root())
            .arg("--define")
            .arg(format!("_dbpath {}", self.dbpath));
        command
    }

    pub(crate) fn database(&self) -> PathBuf {
        self.root()
            .join(self.dbpath.trim_start_matches('/'))
            .join("rpmdb.sqlite")
    }

    /// Imports a freshly made signing key, so the database holds a `gpg-pubkey`
    /// pseudo-package as real systems do. Returns false when gpg is not available.
    pub(crate) fn import_key(&self) -> bool {
        if !require("gpg") {
            return false;
        }
        let home = self.dir.path().join("gnupg");
        std::fs::create_dir_all(&home).unwrap();
        let gpg = || {
            let mut c = Command::new("gpg");
            c.arg("--homedir").arg(&home).arg("--batch");
            c
        };
        run(gpg().args([
            "--passphrase",
            "",
            "--quick-gen-key",
            "Rampart Test <test@example.invalid>",
            "ed25519",
            "sign",
            "never",
        ]));
        let key = self.dir.path().join("key.asc");
        std::fs::write(&key, run(gpg().args(["--armor", "--export"]))).unwrap();
        run(self.rpm().arg("--import").arg(&key));
        true
    }

    /// What rpm itself says is installed, in the tests' row form, `gpg-pubkey` included.
    pub(crate) fn rpm_says(&self) -> Vec<Row> {
        let format = "%{NAME} %{EPOCHNUM} %|EPOCH?{%{EPOCH}}:{(none)}| %{VERSION} %{RELEASE} %{ARCH} %{SOURCERPM}\n";
        let out = run(self.rpm().args(["-qa", "--qf", format]));
        let mut rows: Vec<Row> = out
            .lines()
            .map(|line| {
                let f: Vec<&str> = line.split(' ').collect();
                let [name, epochnum, epoch, version, release, arch, source_rpm] = f[..] else {
                    panic!("unexpected rpm -qa line {line:?}")
                };
                let evr = if epoch == "(none)" {
                    assert_eq!(epochnum, "0");
                    format!("{version}-{release}")
                } else {
                    assert_eq!(epochnum, epoch);
                    format!("{epoch}:{version}-{release}")
                };
                let source = source_rpm
                    .strip_suffix(".src.rpm")
                    .and_then(|s| s.rsplitn(3, '-').nth(2))
                    .filter(|s| *s != name)
                    .unwrap_or_default();
                let arch = if arch == "(none)" { "" } else { arch };
                (
                    name.to_owned(),
                    arch.to_owned(),
                    evr,
                    source.to_owned(),
                    String::new(),
                )
            })
            .collect();
        rows.sort();
        rows
    }
}

fn find_rpms(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(find_rpms(&path));
        } else if path.extension().is_some_and(|e| e == "rpm") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Writes `contents` at `path` inside `root`, creating directories.
pub(crate) fn write(root: &Path, path: &str, contents: impl AsRef<[u8]>) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, contents).unwrap();
}

/// A fixture file of this crate.
pub(crate) fn fixture(path: &str) -> Vec<u8> {
    let path = format!("{}/test_data/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}
