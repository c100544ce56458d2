//! RPM databases made by the real rpm (rpmbuild + `rpm -i --justdb`) and read back
//! both by `read_root` and by `rpm -qa`, which must agree.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use rampart_core::distro::Distro;
use rampart_core::package::PackageFormat;
use rampart_inventory::rpm::sqlite::{Database, WalUse};
use rampart_inventory::{Error, read_root};

use crate::support::{Row, RpmRoot, Spec, fixture, require, rows, run, write};

fn have_rpm_tools() -> bool {
    require("rpm") && require("rpmbuild")
}

/// `widget` (Epoch 2, noarch) with subpackage `libwidget1`, `hello-tool` (no Epoch, built
/// for this machine's architecture), `zero` (an explicit Epoch 0).
fn small_specs() -> Vec<Spec> {
    let mut widget = Spec::new("widget", "1.2", "3");
    widget.epoch = Some(2);
    widget.noarch = true;
    widget.extra = "%package -n libwidget1\nSummary: sub\n%description -n libwidget1\nsub\n%files -n libwidget1\n"
        .to_owned();
    let mut zero = Spec::new("zero", "4.0.1", "1.el9_3");
    zero.epoch = Some(0);
    vec![widget, Spec::new("hello-tool", "0.9", "1.fc40"), zero]
}

fn without_gpg_pubkey(rows: Vec<Row>) -> Vec<Row> {
    rows.into_iter().filter(|r| r.0 != "gpg-pubkey").collect()
}

#[test]
fn real_database_matches_rpm_query() {
    if !have_rpm_tools() {
        return;
    }
    let db = RpmRoot::new("/var/lib/rpm", &small_specs());
    let imported = db.import_key();
    write(
        &db.root(),
        "etc/os-release",
        "ID=\"rocky\"\nVERSION_ID=\"9.3\"\n",
    );

    let inventory = read_root(&db.root()).unwrap();
    let rpm_says = db.rpm_says();
    assert_eq!(rpm_says.iter().any(|r| r.0 == "gpg-pubkey"), imported);
    assert_eq!(
        rows(&inventory.packages, PackageFormat::Rpm),
        without_gpg_pubkey(rpm_says)
    );
    assert_eq!(inventory.sources, ["var/lib/rpm/rpmdb.sqlite"]);
    assert!(inventory.problems.is_empty(), "{:?}", inventory.problems);
    assert_eq!(inventory.os.release().unwrap().distro, Distro::RockyLinux);

    let libwidget1 = inventory
        .packages
        .iter()
        .find(|p| p.name == "libwidget1")
        .unwrap();
    assert_eq!(
        (
            libwidget1.version.as_str(),
            libwidget1.arch.as_deref(),
            libwidget1.source()
        ),
        ("2:1.2-3", Some("noarch"), "widget")
    );
    let zero = inventory
        .packages
        .iter()
        .find(|p| p.name == "zero")
        .unwrap();
    assert_eq!(zero.version, "0:4.0.1-1.el9_3");
    let hello = inventory
        .packages
        .iter()
        .find(|p| p.name == "hello-tool")
        .unwrap();
    assert_eq!(
        (hello.version.as_str(), hello.source_name.as_deref()),
        ("0.9-1.fc40", None)
    );
}

/// 300 subpackages fill more than one leaf page, so the Packages b-tree gets interior
/// pages; one package with a 20 KB description has a header larger than a page, so
/// its row spills to overflow pages.
#[test]
fn many_and_large_headers_walk_interior_and_overflow_pages() {
    if !have_rpm_tools() {
        return;
    }
    let mut big = Spec::new("big", "1", "1");
    big.noarch = true;
    let mut extra = String::new();
    for i in 0..300 {
        write!(extra, "%package -n small-{i}\nSummary: s\nVersion: 1.{i}\n%description -n small-{i}\ns\n%files -n small-{i}\n").unwrap();
    }
    extra += "%package -n large\nSummary: l\n%description -n large\n";
    for i in 0..400 {
        writeln!(
            extra,
            "Line {i} of a long description that makes this header larger than one page."
        )
        .unwrap();
    }
    extra += "%files -n large\n";
    big.extra = extra;
    let db = RpmRoot::new("/var/lib/rpm", &[big]);

    let inventory = read_root(&db.root()).unwrap();
    let rpm_says = db.rpm_says();
    assert_eq!(rpm_says.len(), 302);
    assert_eq!(rows(&inventory.packages, PackageFormat::Rpm), rpm_says);

    let database = Database::open(std::fs::File::open(db.database()).unwrap(), None).unwrap();
    let table = database.table_root("Packages").unwrap().unwrap();
    let mut blobs = 0;
    let stats = database.scan_table(table, |row| {
        row.unwrap();
        blobs += 1;
    });
    assert_eq!(blobs, 302);
    assert!(stats.interior_pages >= 1, "{stats:?}");
    assert!(stats.overflow_pages >= 1, "{stats:?}");
}

/// Fedora keeps the database in `usr/lib/sysimage/rpm` and links `var/lib/rpm` to it:
/// one database, read once.
#[test]
fn fedora_layout_is_read_once() {
    if !have_rpm_tools() {
        return;
    }
    let db = RpmRoot::new("/usr/lib/sysimage/rpm", &small_specs());
    std::fs::create_dir_all(db.root().join("var/lib")).unwrap();
    std::os::unix::fs::symlink("../../usr/lib/sysimage/rpm", db.root().join("var/lib/rpm"))
        .unwrap();
    let inventory = read_root(&db.root()).unwrap();
    assert_eq!(inventory.sources, ["usr/lib/sysimage/rpm/rpmdb.sqlite"]);
    assert_eq!(rows(&inventory.packages, PackageFormat::Rpm), db.rpm_says());
}

/// A change committed to the WAL but not yet checkpointed into the main file (what a
/// copy of a live system holds) must be seen, as rpm itself sees it. The real sqlite3
/// makes the change and keeps the database open while the files are copied.
#[test]
fn uncheckpointed_wal_is_honoured() {
    if !have_rpm_tools() || !require("sqlite3") {
        return;
    }
    let db = RpmRoot::new("/var/lib/rpm", &small_specs());
    let mut sqlite = Command::new("sqlite3")
        .arg(db.database())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = sqlite.stdin.take().unwrap();
    writeln!(
        stdin,
        "PRAGMA journal_mode=WAL;\nPRAGMA wal_autocheckpoint=0;\n\
         DELETE FROM Packages WHERE hnum = (SELECT hnum FROM Name WHERE key = 'hello-tool');\n.print READY"
    )
    .unwrap();
    stdin.flush().unwrap();
    let mut stdout = BufReader::new(sqlite.stdout.take().unwrap());
    let mut line = String::new();
    while line.trim() != "READY" {
        line.clear();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "sqlite3 exited early"
        );
    }
    // sqlite3 is idle with the database open: copy the main file and its WAL.
    let copy = tempfile::tempdir().unwrap();
    // Laid out as an RpmRoot (`<dir>/root/...`) so rpm can be asked about it below.
    let dir = copy.path().join("root/var/lib/rpm");
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["rpmdb.sqlite", "rpmdb.sqlite-wal"] {
        std::fs::copy(db.database().with_file_name(name), dir.join(name)).unwrap();
    }
    drop(stdin);
    assert!(sqlite.wait().unwrap().success());
    assert!(
        std::fs::metadata(dir.join("rpmdb.sqlite-wal"))
            .unwrap()
            .len()
            > 0,
        "the change is in the WAL"
    );

    let inventory = read_root(&copy.path().join("root")).unwrap();
    let got = rows(&inventory.packages, PackageFormat::Rpm);
    assert!(!got.iter().any(|r| r.0 == "hello-tool"), "{got:?}");
    assert_eq!(got.len(), 3);
    let open = |wal: bool| {
        let main = std::fs::File::open(dir.join("rpmdb.sqlite")).unwrap();
        let wal = wal.then(|| std::fs::File::open(dir.join("rpmdb.sqlite-wal")).unwrap());
        Database::open(main, wal).unwrap()
    };
    assert!(matches!(open(true).wal(), WalUse::Applied { .. }));
    // The main file alone still has the package: the WAL is what removed it.
    let main_only = rampart_inventory::rpm::packages(&open(false)).unwrap();
    assert!(main_only.packages.iter().any(|p| p.name == "hello-tool"));

    // rpm, through the real SQLite, reads the copy the same way (after us: it may
    // checkpoint the WAL into the main file).
    let copied = RpmRoot {
        dir: copy,
        dbpath: "/var/lib/rpm",
    };
    assert_eq!(copied.rpm_says(), got);
}

#[test]
fn damaged_database_costs_only_what_is_damaged() {
    if !have_rpm_tools() {
        return;
    }
    let db = RpmRoot::new("/var/lib/rpm", &small_specs());
    let rpm_says = db.rpm_says();
    let bytes = std::fs::read(db.database()).unwrap();

    // Cut short, as by a failed copy: whatever is read is right, and the loss is said.
    let cut = tempfile::tempdir().unwrap();
    write(
        cut.path(),
        "var/lib/rpm/rpmdb.sqlite",
        &bytes[..bytes.len() * 3 / 4],
    );
    write(
        cut.path(),
        "var/lib/dpkg/status",
        "Package: a\nStatus: install ok installed\nVersion: 1\n",
    );
    match read_root(cut.path()) {
        Ok(inventory) => {
            assert!(
                rows(&inventory.packages, PackageFormat::Rpm)
                    .iter()
                    .all(|r| rpm_says.contains(r))
            );
            assert!(
                inventory
                    .problems
                    .iter()
                    .any(|p| p.location.starts_with("var/lib/rpm/rpmdb.sqlite"))
            );
        }
        Err(e) => panic!("a damaged database next to a good one is a problem, not an error: {e}"),
    }

    // Not a database at all, and nothing else to read: an error naming it.
    let junk = tempfile::tempdir().unwrap();
    write(
        junk.path(),
        "var/lib/rpm/rpmdb.sqlite",
        b"this is not SQLite".repeat(300),
    );
    let err = read_root(junk.path()).unwrap_err();
    assert!(matches!(err, Error::Unreadable { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("var/lib/rpm/rpmdb.sqlite (not an SQLite 3 database)"),
        "{err}"
    );

    // An SQLite database that is not rpm's.
    let other = tempfile::tempdir().unwrap();
    write(
        other.path(),
        "usr/lib/sysimage/rpm/rpmdb.sqlite",
        fixture("sqlite/small.sqlite"),
    );
    let err = read_root(other.path()).unwrap_err();
    assert!(err.to_string().contains("no Packages table"), "{err}");

    // A row whose blob is not a header: a problem at its record, the rest still read.
    if require("sqlite3") {
        run(Command::new("sqlite3").arg(db.database()).arg(
            "UPDATE Packages SET blob = x'0000000100000000' WHERE hnum = (SELECT hnum FROM Name WHERE key = 'zero')",
        ));
        let inventory = read_root(&db.root()).unwrap();
        let names: Vec<_> = inventory.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["hello-tool", "libwidget1", "widget"]);
        assert_eq!(inventory.problems.len(), 2, "{:?}", inventory.problems);
        let problem = inventory
            .problems
            .iter()
            .find(|p| p.location.starts_with("var/lib/rpm"))
            .unwrap();
        assert!(
            problem
                .location
                .starts_with("var/lib/rpm/rpmdb.sqlite record "),
            "{problem}"
        );
        assert!(problem.reason.contains("shorter"), "{problem}");
    }
}
