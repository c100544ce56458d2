use std::os::unix::fs::symlink;

use super::*;

/// A root with `etc/os-release -> /usr/lib/os-release`, as systemd distributions ship.
fn root() -> (tempfile::TempDir, Root) {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("usr/lib")).unwrap();
    fs::create_dir_all(dir.path().join("etc")).unwrap();
    fs::write(dir.path().join("usr/lib/os-release"), "ID=inside\n").unwrap();
    symlink("/usr/lib/os-release", dir.path().join("etc/os-release")).unwrap();
    let root = Root::new(dir.path()).unwrap();
    (dir, root)
}

fn inside(root: &Root, path: &str) -> Option<String> {
    root.resolve(path).unwrap().map(|r| {
        assert!(
            r.host.starts_with(root.path()),
            "{} escaped the root",
            r.host.display()
        );
        r.inside
    })
}

#[test]
fn absolute_symlinks_resolve_inside_the_root() {
    let (_dir, root) = root();
    assert_eq!(
        inside(&root, "etc/os-release").as_deref(),
        Some("usr/lib/os-release")
    );
    assert_eq!(
        root.read("/etc/os-release").unwrap().unwrap().1,
        b"ID=inside\n"
    );
    // A link to a host file the root does not have finds nothing, never the host's.
    assert!(Path::new("/etc/passwd").exists());
    symlink("/etc/passwd", root.path().join("etc/users")).unwrap();
    assert_eq!(inside(&root, "etc/users"), None);
    assert_eq!(root.read("etc/users").unwrap(), None);
    symlink("/", root.path().join("slash")).unwrap();
    assert_eq!(
        inside(&root, "slash/usr/lib/os-release").as_deref(),
        Some("usr/lib/os-release")
    );
}

#[test]
fn dot_dot_stops_at_the_root() {
    let (_dir, root) = root();
    symlink("../../../../../../usr/lib", root.path().join("etc/up")).unwrap();
    assert_eq!(
        inside(&root, "etc/up/os-release").as_deref(),
        Some("usr/lib/os-release")
    );
    assert_eq!(
        inside(&root, "../../../usr/./lib/../lib/os-release").as_deref(),
        Some("usr/lib/os-release")
    );
    assert_eq!(inside(&root, "..").as_deref(), Some(""));
}

#[test]
fn relative_symlinks_and_directories() {
    let (_dir, root) = root();
    // Fedora: var/lib/rpm -> ../../usr/lib/sysimage/rpm
    fs::create_dir_all(root.path().join("usr/lib/sysimage/rpm")).unwrap();
    fs::write(root.path().join("usr/lib/sysimage/rpm/rpmdb.sqlite"), b"x").unwrap();
    fs::create_dir_all(root.path().join("var/lib")).unwrap();
    symlink(
        "../../usr/lib/sysimage/rpm",
        root.path().join("var/lib/rpm"),
    )
    .unwrap();
    assert_eq!(
        inside(&root, "var/lib/rpm/rpmdb.sqlite").as_deref(),
        Some("usr/lib/sysimage/rpm/rpmdb.sqlite")
    );
    assert_eq!(
        root.list("var/lib/rpm").unwrap(),
        Some(vec!["rpmdb.sqlite".to_owned()])
    );
    // A file used as a directory, and a missing path, do not exist.
    assert_eq!(inside(&root, "usr/lib/os-release/x"), None);
    assert_eq!(inside(&root, "nope/x"), None);
    assert_eq!(
        root.read("usr/lib").unwrap(),
        None,
        "a directory is not a file"
    );
    assert_eq!(
        root.list("usr/lib/os-release").unwrap(),
        None,
        "a file is not a directory"
    );
}

#[test]
fn symlink_loops_are_errors() {
    let (_dir, root) = root();
    symlink("b", root.path().join("a")).unwrap();
    symlink("/a", root.path().join("b")).unwrap();
    let err = root.resolve("a/x").unwrap_err();
    assert!(err.to_string().contains("symbolic links"), "{err}");
}

#[test]
fn root_must_be_a_directory() {
    let (dir, _) = root();
    assert!(Root::new(&dir.path().join("usr/lib/os-release")).is_err());
    assert!(Root::new(&dir.path().join("missing")).is_err());
}
