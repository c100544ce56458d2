//! The RPM database, read without rpm or librpm so container and image roots scan too:
//! the SQLite backend (rpm 4.16 and later: Fedora 33+, RHEL 9, Alma and Rocky 9) in
//! `var/lib/rpm/` or `usr/lib/sysimage/rpm/`, through [`sqlite`], one header blob per
//! package in table `Packages(hnum, blob)`, each parsed by [`header`].
//!
//! The Berkeley DB (`Packages`, RHEL 8 and older) and ndb (`Packages.db`, SUSE)
//! backends are recognised but not read: this machine's rpm cannot create either, and
//! a reader that was never run against a real database is not one to trust.

pub mod header;
pub mod sqlite;

use std::fs::{self, File};

use crate::root::{Found, Resolved, Root, first_of_each};
use crate::{Error, Parsed, Problem};

/// rpm's two conventional database directories; Fedora links the first to the second.
const DIRS: [&str; 2] = ["var/lib/rpm", "usr/lib/sysimage/rpm"];
/// Backends recognised but not read, by file name.
const UNREAD: [(&str, &str); 2] = [("Packages", "Berkeley DB"), ("Packages.db", "ndb")];

/// The pseudo-package rpm records for each imported signing key; not software.
const GPG_PUBKEY: &str = "gpg-pubkey";

/// Reads the installed packages from an open database: every row of `Packages`.
/// A row that cannot be read is a problem at `record <hnum>`; the others still count.
pub fn packages(db: &sqlite::Database) -> Result<Parsed, sqlite::Error> {
    let table = db.table_root("Packages")?.ok_or_else(|| {
        sqlite::Error::Unsupported("no Packages table: not an rpm database".to_owned())
    })?;
    let mut out = Parsed::default();
    db.scan_table(table, |row| {
        let row = match row {
            Ok(row) => row,
            Err(e) => {
                return out.problems.push(Problem::new(
                    "",
                    format!("{e}; the packages stored there are missing"),
                ));
            }
        };
        // `hnum INTEGER PRIMARY KEY` is stored as the rowid.
        let hnum = match row.get(0) {
            sqlite::Value::Integer(n) => n,
            _ => row.rowid,
        };
        let header = match row.get(1) {
            sqlite::Value::Blob(blob) => header::parse(blob),
            other => {
                let reason = format!("blob column holds {}, not a header", kind(&other));
                return out
                    .problems
                    .push(Problem::new(format!("record {hnum}"), reason));
            }
        };
        match header {
            Ok(h) if h.name == GPG_PUBKEY => {}
            Ok(h) => out.packages.push(h.to_package()),
            Err(e) => out.problems.push(Problem::new(
                format!("record {hnum}"),
                format!("{e}; package skipped"),
            )),
        }
    });
    Ok(out)
}

fn kind(value: &sqlite::Value<'_>) -> &'static str {
    match value {
        sqlite::Value::Null => "NULL",
        sqlite::Value::Integer(_) => "an integer",
        sqlite::Value::Real(_) => "a real",
        sqlite::Value::Text(_) => "text",
        sqlite::Value::Blob(_) => "a blob",
    }
}

pub(crate) fn read(root: &Root, found: &mut Found) -> Result<(), Error> {
    let mut databases = Vec::new();
    let mut unread = Vec::new();
    for dir in DIRS {
        let path = format!("{dir}/rpmdb.sqlite");
        if let Some(db) = resolve_file(root, &path)? {
            databases.push(db);
            continue;
        }
        for (file, backend) in UNREAD {
            let path = format!("{dir}/{file}");
            if let Some(db) = resolve_file(root, &path)? {
                unread.push(Resolved {
                    inside: format!("{} ({backend} rpm database, not supported)", db.inside),
                    ..db
                });
            }
        }
    }
    for db in first_of_each(databases) {
        let wal = match resolve_file(root, &format!("{}-wal", db.inside))? {
            Some(wal) => Some(File::open(&wal.host).map_err(|e| root.error(&wal.inside, e))?),
            None => None,
        };
        let main = File::open(&db.host).map_err(|e| root.error(&db.inside, e))?;
        let opened = sqlite::Database::open(main, wal).and_then(|d| packages(&d).map(|p| (d, p)));
        let (database, mut parsed) = match opened {
            Ok(read) => read,
            Err(sqlite::Error::Io(e)) => return Err(root.error(&db.inside, e)),
            Err(e) => {
                found.unreadable.push(format!("{} ({e})", db.inside));
                continue;
            }
        };
        if let sqlite::WalUse::Ignored(why) = database.wal() {
            parsed.problems.push(Problem::new(
                "",
                format!("{why}; read without it, so recent changes may be missing"),
            ));
        }
        if resolve_file(root, &format!("{}-journal", db.inside))?
            .is_some_and(|j| fs::metadata(j.host).is_ok_and(|m| m.len() > 0))
        {
            parsed.problems.push(Problem::new(
                "",
                "a rollback journal is present: a transaction was interrupted and the database may be inconsistent",
            ));
        }
        found.add(&db.inside, parsed);
    }
    found
        .unreadable
        .extend(first_of_each(unread).into_iter().map(|r| r.inside));
    Ok(())
}

/// `path` inside the root when it is a regular file there.
fn resolve_file(root: &Root, path: &str) -> Result<Option<Resolved>, Error> {
    let Some(resolved) = root.resolve(path).map_err(|e| root.error(path, e))? else {
        return Ok(None);
    };
    let meta = fs::metadata(&resolved.host).map_err(|e| root.error(path, e))?;
    Ok(meta.is_file().then_some(resolved))
}
