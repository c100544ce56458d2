use std::fmt::Write as _;

use super::*;

/// Fixtures written by the real SQLite library: see `test_data/sqlite/make.py`.
fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/test_data/sqlite/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn expected(name: &str) -> String {
    String::from_utf8(fixture(name)).expect("UTF-8")
}

/// Table `t` in the format `make.py` dumps SQLite's own reading, plus the walk stats
/// and any errors.
fn dump(db: &Database) -> (String, ScanStats, Vec<String>) {
    let root = db
        .table_root("t")
        .expect("schema readable")
        .expect("table t exists");
    let mut out = String::new();
    let mut errors = Vec::new();
    let stats = db.scan_table(root, |row| match row {
        Ok(row) => {
            write!(out, "{}", row.rowid).unwrap();
            for i in 0..3 {
                let cell = match row.get(i) {
                    // Column 0 is `id INTEGER PRIMARY KEY`: stored as NULL, read as the rowid.
                    Value::Null if i == 0 => format!("int:{}", row.rowid),
                    Value::Null => "null:".to_owned(),
                    Value::Integer(n) => format!("int:{n}"),
                    Value::Real(r) => format!("real:{r:?}"),
                    Value::Text(t) => format!("text:{}", hex(t)),
                    Value::Blob(b) => format!("blob:{}", hex(b)),
                };
                write!(out, "|{cell}").unwrap();
            }
            out.push('\n');
        }
        Err(e) => errors.push(e.to_string()),
    });
    (out, stats, errors)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn reads_what_sqlite_wrote() {
    let db = Database::from_bytes(fixture("small.sqlite"), None).unwrap();
    assert_eq!(db.page_size(), 512);
    assert_eq!(db.wal(), &WalUse::Absent);
    let (rows, stats, errors) = dump(&db);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(rows, expected("small.expected"));
    // The fixture is built so that every part of the format is exercised.
    assert!(
        stats.interior_pages > 0 && stats.leaf_pages > 1 && stats.overflow_pages > 0,
        "{stats:?}"
    );
    assert_eq!(stats.rows, 103);
}

#[test]
fn schema_lookup_ignores_case_and_misses_cleanly() {
    let db = Database::from_bytes(fixture("small.sqlite"), None).unwrap();
    assert_eq!(db.table_root("T").unwrap(), db.table_root("t").unwrap());
    assert!(db.table_root("other").unwrap().is_some());
    assert_eq!(db.table_root("Packages").unwrap(), None);
}

#[test]
fn honours_committed_wal_frames() {
    let db = Database::from_bytes(fixture("wal.sqlite"), Some(fixture("wal.sqlite-wal"))).unwrap();
    assert!(
        matches!(db.wal(), WalUse::Applied { frames } if *frames > 0),
        "{:?}",
        db.wal()
    );
    let (rows, _, errors) = dump(&db);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(rows, expected("wal.expected"));

    // Without its WAL the main file is still the state before those changes.
    let db = Database::from_bytes(fixture("wal.sqlite"), None).unwrap();
    assert_eq!(dump(&db).0, expected("small.expected"));
}

#[test]
fn damaged_wal_is_treated_as_sqlite_would() {
    let main = fixture("wal.sqlite");
    let wal = fixture("wal.sqlite-wal");

    // A torn last frame: its transaction never committed, so none of it applies.
    let mut torn = wal.clone();
    let last = torn.len() - 10;
    torn[last] ^= 0xff;
    let db = Database::from_bytes(main.clone(), Some(torn)).unwrap();
    assert_eq!(db.wal(), &WalUse::Absent);
    assert_eq!(dump(&db).0, expected("small.expected"));

    // Truncated mid-frame: same.
    let db = Database::from_bytes(main.clone(), Some(wal[..wal.len() - 100].to_vec())).unwrap();
    assert_eq!(dump(&db).0, expected("small.expected"));

    // Empty, as SQLite leaves it after a checkpoint.
    let db = Database::from_bytes(main.clone(), Some(Vec::new())).unwrap();
    assert_eq!(db.wal(), &WalUse::Absent);

    // Not a WAL at all: ignored, and said so.
    let mut junk = wal.clone();
    junk[0] = 0;
    let db = Database::from_bytes(main.clone(), Some(junk)).unwrap();
    assert!(matches!(db.wal(), WalUse::Ignored(_)));
    assert_eq!(dump(&db).0, expected("small.expected"));

    // Header checksum broken.
    let mut bad = wal;
    bad[12] ^= 1;
    let db = Database::from_bytes(main, Some(bad)).unwrap();
    assert!(
        matches!(db.wal(), WalUse::Ignored(why) if why.contains("checksum")),
        "{:?}",
        db.wal()
    );
}

#[test]
fn rejects_what_is_not_sqlite() {
    for bytes in [
        Vec::new(),
        b"SQLite format 3".to_vec(),
        vec![0u8; 4096],
        b"hello world".repeat(100),
    ] {
        assert!(matches!(
            Database::from_bytes(bytes, None),
            Err(Error::NotSqlite)
        ));
    }
    let mut bad_page_size = fixture("small.sqlite");
    bad_page_size[16..18].copy_from_slice(&1000u16.to_be_bytes());
    assert!(matches!(
        Database::from_bytes(bad_page_size, None),
        Err(Error::Corrupt { .. })
    ));
    let mut utf16 = fixture("small.sqlite");
    utf16[56..60].copy_from_slice(&2u32.to_be_bytes());
    assert!(matches!(
        Database::from_bytes(utf16, None),
        Err(Error::Unsupported(_))
    ));
}

#[test]
fn truncated_file_loses_only_missing_pages() {
    let full = fixture("small.sqlite");
    let mut cut = full[..full.len() / 2].to_vec();
    // Keep the header's page count, as a file cut short by a failed copy would.
    cut.truncate(cut.len() / 512 * 512);
    let db = Database::from_bytes(cut, None).unwrap();
    let (rows, _, errors) = dump(&db);
    assert!(!errors.is_empty(), "the missing pages must be reported");
    assert!(
        errors
            .iter()
            .all(|e| e.contains("beyond the end of the file")),
        "{errors:?}"
    );
    let all = expected("small.expected");
    assert!(rows.lines().count() < all.lines().count());
    assert!(
        rows.lines().all(|line| all.lines().any(|l| l == line)),
        "rows read are the real ones"
    );
}

#[test]
fn cycles_end_the_walk() {
    let bytes = fixture("small.sqlite");
    let db = Database::from_bytes(bytes.clone(), None).unwrap();
    let root = db.table_root("t").unwrap().unwrap();
    let at = (root as usize - 1) * 512;
    assert_eq!(bytes[at], 0x05, "the root of t is an interior page");
    // Point the root's right-most child back at the root.
    let mut looped = bytes;
    looped[at + 8..at + 12].copy_from_slice(&root.to_be_bytes());
    let db = Database::from_bytes(looped, None).unwrap();
    let (_, _, errors) = dump(&db);
    assert!(
        errors.iter().any(|e| e.contains("reached twice")),
        "{errors:?}"
    );
}

#[test]
fn overflow_cycles_cost_only_their_row() {
    let bytes = fixture("small.sqlite");
    let db = Database::from_bytes(bytes.clone(), None).unwrap();
    // Find a leaf cell with an overflow chain, and point the chain back at its own leaf.
    let target = (2..=db.page_count()).find_map(|number| {
        let page = db.page(number).unwrap();
        if page[0] != 0x0d {
            return None;
        }
        db.cells(number, &page, 0, 8)
            .unwrap()
            .into_iter()
            .find_map(|offset| {
                let (len, a) = varint(&page[offset..]).unwrap();
                let (_, b) = varint(&page[offset + a..]).unwrap();
                let local = db.local_payload(len as usize);
                (local < len as usize).then_some((number, offset + a + b + local))
            })
    });
    let (number, at) = target.expect("the fixture has overflowing rows");
    let mut looped = bytes;
    let at = (number as usize - 1) * 512 + at;
    looped[at..at + 4].copy_from_slice(&number.to_be_bytes());
    let db = Database::from_bytes(looped, None).unwrap();
    let (_, stats, errors) = dump(&db);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("already in use"), "{errors:?}");
    assert_eq!(stats.rows, 102);
}

#[test]
fn varints() {
    let check = |bytes: &[u8], expected: Option<(u64, usize)>| {
        assert_eq!(varint(bytes), expected, "{bytes:02x?}")
    };
    check(&[0x00], Some((0, 1)));
    check(&[0x7f], Some((127, 1)));
    check(&[0x81, 0x00], Some((128, 2)));
    check(&[0xff, 0x7f], Some((0x3fff, 2)));
    check(&[0xff; 9], Some((u64::MAX, 9)));
    check(
        &[0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
        Some((1 << 57 | 1, 9)),
    );
    check(&[], None);
    check(&[0x80], None);
    check(&[0xff; 8], None);
}

#[test]
fn record_bounds() {
    // Header length past the payload; reserved serial type; value past the end.
    assert!(parse_record(&[0x05, 0x01]).is_err());
    assert!(parse_record(&[0x02, 0x0a]).is_err());
    assert!(parse_record(&[0x02, 0x06, 0x00]).is_err());
    assert_eq!(parse_record(&[0x03, 0x00, 0x01, 0x2a]).unwrap().len(), 2);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

    #[test]
    fn arbitrary_bytes_never_panic(main in proptest::collection::vec(proptest::num::u8::ANY, 0..2048),
                                   wal in proptest::option::of(proptest::collection::vec(proptest::num::u8::ANY, 0..2048))) {
        if let Ok(db) = Database::from_bytes(main, wal) {
            let _ = db.table_root("t");
            for root in 1..4 {
                db.scan_table(root, |_| {});
            }
        }
    }

    /// Damage anywhere in a real database: errors, never a panic or a hang.
    #[test]
    fn damaged_database_never_panics(edits in proptest::collection::vec((0usize..97792, proptest::num::u8::ANY), 1..20),
                                     wal_edits in proptest::collection::vec((0usize..155472, proptest::num::u8::ANY), 0..4)) {
        let mut main = fixture("wal.sqlite");
        for (at, byte) in edits {
            main[at % 97792] = byte;
        }
        let mut wal = fixture("wal.sqlite-wal");
        for (at, byte) in wal_edits {
            let at = at % wal.len();
            wal[at] = byte;
        }
        if let Ok(db) = Database::from_bytes(main, Some(wal))
            && let Ok(Some(root)) = db.table_root("t")
        {
            db.scan_table(root, |_| {});
        }
    }
}
