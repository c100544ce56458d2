//! A small read-only reader of the SQLite 3 file format, enough to walk one table: the
//! database header, table b-trees (interior and leaf pages), varints, the record format,
//! overflow chains, and the write-ahead log.
//!
//! It exists so the RPM database can be read without an SQLite C library: the server
//! links sqlx's SQLite, and two copies of libsqlite3-sys cannot meet in one build.
//! Index b-trees, `WITHOUT ROWID` tables, UTF-16 databases and writing are out of scope
//! (the RPM database uses none of them).
//!
//! Every offset, length and page number read from the file is checked before use, and
//! a damaged page costs only the rows below it: [`Database::scan_table`] reports it and
//! carries on with the rest of the tree.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

/// Why a database, or part of one, could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not an SQLite 3 database")]
    NotSqlite,
    #[error("unsupported SQLite database: {0}")]
    Unsupported(String),
    #[error("corrupt SQLite database{}: {what}", at_page(*page))]
    Corrupt { page: Option<u32>, what: String },
    #[error(transparent)]
    Io(#[from] io::Error),
}

fn at_page(page: Option<u32>) -> String {
    page.map(|p| format!(" (page {p})")).unwrap_or_default()
}

fn corrupt(page: u32, what: impl Into<String>) -> Error {
    Error::Corrupt {
        page: Some(page),
        what: what.into(),
    }
}

/// Table b-trees deeper than this are taken as a pointer cycle: with 512-byte pages
/// and four children per page, 40 levels would already address more than 2^64 rows.
const MAX_DEPTH: usize = 40;
/// SQLite's own compile-time ceiling on one value (SQLITE_MAX_LENGTH).
const MAX_PAYLOAD: u64 = 1_000_000_000;
const MAGIC: &[u8; 16] = b"SQLite format 3\0";
const WAL_HEADER: u64 = 32;
const WAL_FRAME_HEADER: u64 = 24;

/// Bytes of the main file or of the WAL: in memory (fuzzing, tests) or read page by
/// page from an open file, so a large database is never held in memory whole.
enum Store {
    Memory(Vec<u8>),
    File { file: File, len: u64 },
}

impl Store {
    fn from_file(file: File) -> io::Result<Store> {
        let len = file.metadata()?.len();
        Ok(Store::File { file, len })
    }

    fn len(&self) -> u64 {
        match self {
            Store::Memory(bytes) => bytes.len() as u64,
            Store::File { len, .. } => *len,
        }
    }

    /// Fills `buf` from `offset`; `UnexpectedEof` when the store is shorter.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        match self {
            Store::Memory(bytes) => {
                let slice = usize::try_from(offset)
                    .ok()
                    .and_then(|start| bytes.get(start..start.checked_add(buf.len())?))
                    .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
                buf.copy_from_slice(slice);
                Ok(())
            }
            Store::File { file, .. } => {
                let mut file = file;
                file.seek(SeekFrom::Start(offset))?;
                file.read_exact(buf)
            }
        }
    }
}

/// What became of the write-ahead log next to the database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WalUse {
    /// No WAL, or an empty one (SQLite truncates it after a checkpoint).
    Absent,
    /// Committed frames were read and take precedence over the main file, as they do
    /// for SQLite itself; frames after the last commit (an unfinished transaction) are
    /// left out, as SQLite leaves them out.
    Applied { frames: u32 },
    /// The WAL is not one SQLite would use (bad header, other page size); the main
    /// file was read alone, so changes not yet checkpointed may be missing.
    Ignored(String),
}

/// Committed WAL frames: the newest copy of each page they hold.
struct Wal {
    store: Store,
    /// Page number → offset of that page's newest committed image in the WAL.
    pages: HashMap<u32, u64>,
    page_size: u32,
    /// Database size in pages after the last commit.
    db_pages: u32,
    frames: u32,
}

/// An open database: read-only, consistent as of its last committed transaction.
pub struct Database {
    main: Store,
    wal: Option<Wal>,
    wal_use: WalUse,
    page_size: u32,
    usable: u32,
    page_count: u32,
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database")
            .field("page_size", &self.page_size)
            .field("page_count", &self.page_count)
            .field("wal", &self.wal_use)
            .finish_non_exhaustive()
    }
}

/// How much of the file one [`Database::scan_table`] walked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScanStats {
    pub interior_pages: u32,
    pub leaf_pages: u32,
    pub overflow_pages: u32,
    pub rows: u64,
}

impl Database {
    /// Opens the main file and, when given, its `-wal` file.
    pub fn open(main: File, wal: Option<File>) -> Result<Database, Error> {
        let wal = wal.map(Store::from_file).transpose()?;
        Database::new(Store::from_file(main)?, wal)
    }

    /// Opens a database held in memory (tests and fuzzing).
    pub fn from_bytes(main: Vec<u8>, wal: Option<Vec<u8>>) -> Result<Database, Error> {
        Database::new(Store::Memory(main), wal.map(Store::Memory))
    }

    fn new(main: Store, wal: Option<Store>) -> Result<Database, Error> {
        let main_header = if main.len() >= 100 {
            let mut header = [0u8; 100];
            main.read_at(0, &mut header)?;
            Some(header)
        } else {
            None
        };
        let (wal, wal_use) = match wal {
            None => (None, WalUse::Absent),
            Some(store) => match read_wal(store)? {
                Ok(None) => (None, WalUse::Absent),
                Ok(Some(wal)) => {
                    let frames = wal.frames;
                    (Some(wal), WalUse::Applied { frames })
                }
                Err(reason) => (None, WalUse::Ignored(reason)),
            },
        };
        // Page 1, whose first 100 bytes are the database header, may itself be in the WAL.
        let header: [u8; 100] = match wal
            .as_ref()
            .and_then(|w| w.pages.get(&1).map(|&at| (w, at)))
        {
            Some((w, at)) => {
                let mut header = [0u8; 100];
                w.store.read_at(at, &mut header)?;
                header
            }
            None => main_header.ok_or(Error::NotSqlite)?,
        };
        if &header[..16] != MAGIC {
            return Err(Error::NotSqlite);
        }
        let page_size = match u16::from_be_bytes([header[16], header[17]]) {
            1 => 65536,
            n => u32::from(n),
        };
        if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
            return Err(Error::Corrupt {
                page: Some(1),
                what: format!("invalid page size {page_size}"),
            });
        }
        if header[19] > 2 {
            return Err(Error::Unsupported(format!(
                "file format read version {}",
                header[19]
            )));
        }
        let usable = page_size - u32::from(header[20]);
        if usable < 480 {
            return Err(Error::Corrupt {
                page: Some(1),
                what: format!("usable page size {usable} below 480"),
            });
        }
        if header[21..24] != [64, 32, 32] {
            return Err(Error::Corrupt {
                page: Some(1),
                what: "invalid payload fractions".to_owned(),
            });
        }
        match u32::from_be_bytes(header[56..60].try_into().expect("4 bytes")) {
            0 | 1 => {}
            2 | 3 => return Err(Error::Unsupported("UTF-16 text encoding".to_owned())),
            n => {
                return Err(Error::Corrupt {
                    page: Some(1),
                    what: format!("invalid text encoding {n}"),
                });
            }
        }
        let (wal, wal_use) = match wal {
            Some(w) if w.page_size != page_size => (
                None,
                WalUse::Ignored(format!(
                    "WAL page size {} differs from the database's {page_size}",
                    w.page_size
                )),
            ),
            other => (other, wal_use),
        };
        let page_count = match &wal {
            Some(w) => w.db_pages,
            None => {
                let in_header = u32::from_be_bytes(header[28..32].try_into().expect("4 bytes"));
                let valid_for = u32::from_be_bytes(header[92..96].try_into().expect("4 bytes"));
                let change_counter =
                    u32::from_be_bytes(header[24..28].try_into().expect("4 bytes"));
                // The in-header size is trusted only when written by a version that
                // maintains it, which it proves by matching the change counter.
                if in_header != 0 && valid_for == change_counter {
                    in_header
                } else {
                    u32::try_from(main.len() / u64::from(page_size)).unwrap_or(u32::MAX)
                }
            }
        };
        Ok(Database {
            main,
            wal,
            wal_use,
            page_size,
            usable,
            page_count,
        })
    }

    pub fn page_size(&self) -> u32 {
        self.page_size
    }

    /// Pages in the database as of its last commit.
    pub fn page_count(&self) -> u32 {
        self.page_count
    }

    pub fn wal(&self) -> &WalUse {
        &self.wal_use
    }

    /// Reads page `number` (1-based), from the WAL when it holds a newer copy.
    fn page(&self, number: u32) -> Result<Vec<u8>, Error> {
        if number == 0 || number > self.page_count {
            return Err(corrupt(
                number,
                format!("page number out of range 1..={}", self.page_count),
            ));
        }
        let mut page = vec![0u8; self.page_size as usize];
        let (store, offset) = match self
            .wal
            .as_ref()
            .and_then(|w| w.pages.get(&number).map(|&at| (w, at)))
        {
            Some((w, at)) => (&w.store, at),
            None => (
                &self.main,
                u64::from(number - 1) * u64::from(self.page_size),
            ),
        };
        store
            .read_at(offset, &mut page)
            .map_err(|e| match e.kind() {
                io::ErrorKind::UnexpectedEof => {
                    corrupt(number, "page lies beyond the end of the file")
                }
                _ => Error::Io(e),
            })?;
        page.truncate(self.usable as usize);
        Ok(page)
    }

    /// The root page of table `name` (compared as SQL does, ignoring ASCII case), from
    /// the schema table on page 1.
    pub fn table_root(&self, name: &str) -> Result<Option<u32>, Error> {
        let mut found: Option<Result<u32, String>> = None;
        let mut first_error = None;
        self.scan_table(1, |row| match row {
            Ok(row) => {
                let is_table = matches!(row.get(0), Value::Text(b"table"));
                let same_name =
                    matches!(row.get(1), Value::Text(n) if n.eq_ignore_ascii_case(name.as_bytes()));
                if is_table && same_name && found.is_none() {
                    found = Some(match row.get(3) {
                        Value::Integer(root) => u32::try_from(root)
                            .ok()
                            .filter(|&r| r >= 1)
                            .ok_or_else(|| format!("table {name} has root page {root}")),
                        other => Err(format!("table {name} has root page {other:?}")),
                    });
                }
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        });
        match found {
            Some(Ok(root)) => Ok(Some(root)),
            Some(Err(what)) => Err(corrupt(1, what)),
            // Not found in what could be read: only an error if part could not be read.
            None => first_error.map_or(Ok(None), Err),
        }
    }

    /// Visits every row of the table b-tree rooted at `root`, in rowid order. A page or
    /// cell that cannot be read is passed to `visit` as an error and the walk goes on
    /// with the rest of the tree.
    pub fn scan_table(&self, root: u32, mut visit: impl FnMut(Result<Row, Error>)) -> ScanStats {
        let mut stats = ScanStats::default();
        let mut seen = HashSet::new();
        let mut stack = vec![(root, 0usize)];
        while let Some((number, depth)) = stack.pop() {
            if !seen.insert(number) {
                visit(Err(corrupt(number, "page reached twice (b-tree cycle)")));
                continue;
            }
            if depth > MAX_DEPTH {
                visit(Err(corrupt(number, "b-tree deeper than any real database")));
                continue;
            }
            let page = match self.page(number) {
                Ok(page) => page,
                Err(e) => {
                    visit(Err(e));
                    continue;
                }
            };
            let header_at = if number == 1 { 100 } else { 0 };
            let result = match page.get(header_at) {
                Some(0x05) => self.interior(number, &page, header_at).map(|children| {
                    stats.interior_pages += 1;
                    stack.extend(children.into_iter().rev().map(|child| (child, depth + 1)));
                }),
                Some(0x0d) => {
                    stats.leaf_pages += 1;
                    self.leaf(number, &page, header_at, &mut seen, &mut stats, &mut visit)
                }
                Some(kind) => Err(corrupt(
                    number,
                    format!("page type {kind:#04x} is not a table b-tree page"),
                )),
                None => Err(corrupt(number, "page shorter than its header")),
            };
            if let Err(e) = result {
                visit(Err(e));
            }
        }
        stats
    }

    /// The cell offsets of a b-tree page whose header (of `header_len` bytes) is at
    /// `header_at`.
    fn cells(
        &self,
        number: u32,
        page: &[u8],
        header_at: usize,
        header_len: usize,
    ) -> Result<Vec<usize>, Error> {
        let count = usize::from(
            be16(page, header_at + 3).ok_or_else(|| corrupt(number, "truncated page header"))?,
        );
        let array_at = header_at + header_len;
        let array_end = array_at + 2 * count;
        if array_end > page.len() {
            return Err(corrupt(
                number,
                format!("{count} cells do not fit in the page"),
            ));
        }
        (0..count)
            .map(|i| {
                let offset =
                    usize::from(be16(page, array_at + 2 * i).expect("inside the checked array"));
                if offset < array_end || offset >= page.len() {
                    return Err(corrupt(
                        number,
                        format!("cell {i} at offset {offset} is outside the content area"),
                    ));
                }
                Ok(offset)
            })
            .collect()
    }

    /// Child page numbers of an interior table page, left to right.
    fn interior(&self, number: u32, page: &[u8], header_at: usize) -> Result<Vec<u32>, Error> {
        let cells = self.cells(number, page, header_at, 12)?;
        let mut children = Vec::with_capacity(cells.len() + 1);
        for (i, offset) in cells.into_iter().enumerate() {
            let child =
                be32(page, offset).ok_or_else(|| corrupt(number, format!("cell {i} truncated")))?;
            children.push(child);
        }
        children.push(
            be32(page, header_at + 8).ok_or_else(|| corrupt(number, "truncated page header"))?,
        );
        Ok(children)
    }

    /// Visits the rows of a leaf table page; a bad cell costs only itself.
    fn leaf(
        &self,
        number: u32,
        page: &[u8],
        header_at: usize,
        seen: &mut HashSet<u32>,
        stats: &mut ScanStats,
        visit: &mut impl FnMut(Result<Row, Error>),
    ) -> Result<(), Error> {
        for (i, offset) in self
            .cells(number, page, header_at, 8)?
            .into_iter()
            .enumerate()
        {
            let row = self
                .leaf_cell(number, page, offset, seen, stats)
                .map_err(|e| match e {
                    Error::Corrupt { page, what } => Error::Corrupt {
                        page,
                        what: format!("cell {i}: {what}"),
                    },
                    other => other,
                });
            if row.is_ok() {
                stats.rows += 1;
            }
            visit(row);
        }
        Ok(())
    }

    /// Reads one cell and its overflow chain. `seen` holds every page this scan has
    /// used: in a sound file each page has one place in one tree, so a page met twice
    /// is corruption, and a scan reads each page at most once however chains are forged.
    fn leaf_cell(
        &self,
        number: u32,
        page: &[u8],
        offset: usize,
        seen: &mut HashSet<u32>,
        stats: &mut ScanStats,
    ) -> Result<Row, Error> {
        let truncated = || corrupt(number, "truncated cell");
        let (payload_len, a) = varint(&page[offset..]).ok_or_else(truncated)?;
        let (rowid, b) = varint(&page[offset + a..]).ok_or_else(truncated)?;
        if payload_len > MAX_PAYLOAD {
            return Err(corrupt(number, format!("payload of {payload_len} bytes")));
        }
        let start = offset + a + b;
        let total = payload_len as usize;
        let local = self.local_payload(total);
        let local_bytes = page.get(start..start + local).ok_or_else(truncated)?;
        // Capacity grows as overflow pages are actually read, so a forged length
        // cannot make us allocate more than the file holds.
        let mut payload = Vec::with_capacity(local);
        payload.extend_from_slice(local_bytes);
        if local < total {
            let mut next = be32(page, start + local).ok_or_else(truncated)?;
            while payload.len() < total {
                if next == 0 {
                    return Err(corrupt(
                        number,
                        "overflow chain ends before the payload does",
                    ));
                }
                if !seen.insert(next) {
                    return Err(corrupt(
                        number,
                        format!("overflow page {next} is already in use (a cycle)"),
                    ));
                }
                let overflow = self.page(next)?;
                stats.overflow_pages += 1;
                let want = (total - payload.len()).min(overflow.len() - 4);
                payload.extend_from_slice(&overflow[4..4 + want]);
                next = be32(&overflow, 0).expect("a page is longer than 4 bytes");
            }
        }
        let columns =
            parse_record(&payload).map_err(|what| corrupt(number, format!("record: {what}")))?;
        Ok(Row {
            rowid: rowid as i64,
            payload,
            columns,
        })
    }

    /// How many payload bytes a table leaf cell keeps on its own page; the rest
    /// spills to overflow pages (file-format section 1.6).
    fn local_payload(&self, total: usize) -> usize {
        let usable = self.usable as usize;
        let max_local = usable - 35;
        if total <= max_local {
            return total;
        }
        let min_local = (usable - 12) * 32 / 255 - 23;
        let k = min_local + (total - min_local) % (usable - 4);
        if k <= max_local { k } else { min_local }
    }
}

/// Reads a WAL the way SQLite recovers one without its shared-memory index: frames are
/// taken while their salts and cumulative checksums hold, up to the last commit frame.
/// `Ok(Err(reason))` for a WAL SQLite would ignore.
fn read_wal(store: Store) -> io::Result<Result<Option<Wal>, String>> {
    if store.len() < WAL_HEADER {
        return Ok(Ok(None));
    }
    let mut header = [0u8; WAL_HEADER as usize];
    store.read_at(0, &mut header)?;
    let big_endian = match be32(&header, 0).expect("32 bytes") {
        0x377f_0682 => false,
        0x377f_0683 => true,
        _ => {
            return Ok(Err(
                "the -wal file is not an SQLite write-ahead log".to_owned()
            ));
        }
    };
    if be32(&header, 4) != Some(3_007_000) {
        return Ok(Err("unknown write-ahead log version".to_owned()));
    }
    let page_size = be32(&header, 8).expect("32 bytes");
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Ok(Err(format!(
            "write-ahead log page size {page_size} is invalid"
        )));
    }
    let mut sum = checksum(big_endian, &header[..24], (0, 0));
    if sum
        != (
            be32(&header, 24).expect("32 bytes"),
            be32(&header, 28).expect("32 bytes"),
        )
    {
        return Ok(Err(
            "write-ahead log header checksum does not match".to_owned()
        ));
    }
    let salts = &header[16..24];
    let frame_len = WAL_FRAME_HEADER + u64::from(page_size);
    let mut frame = vec![0u8; frame_len as usize];
    let mut pages = HashMap::new();
    let mut uncommitted = Vec::new();
    let (mut db_pages, mut frames) = (0, 0);
    let mut index = 0u64;
    loop {
        let offset = WAL_HEADER + index * frame_len;
        if offset + frame_len > store.len() {
            break;
        }
        store.read_at(offset, &mut frame)?;
        let number = be32(&frame, 0).expect("frame header");
        if number == 0 || &frame[8..16] != salts {
            break;
        }
        sum = checksum(big_endian, &frame[..8], sum);
        sum = checksum(big_endian, &frame[WAL_FRAME_HEADER as usize..], sum);
        if sum
            != (
                be32(&frame, 16).expect("frame header"),
                be32(&frame, 20).expect("frame header"),
            )
        {
            break;
        }
        index += 1;
        uncommitted.push((number, offset + WAL_FRAME_HEADER));
        let commit_size = be32(&frame, 4).expect("frame header");
        if commit_size != 0 {
            pages.extend(uncommitted.drain(..));
            db_pages = commit_size;
            frames = u32::try_from(index).unwrap_or(u32::MAX);
        }
    }
    if frames == 0 {
        return Ok(Ok(None));
    }
    Ok(Ok(Some(Wal {
        store,
        pages,
        page_size,
        db_pages,
        frames,
    })))
}

/// SQLite's WAL checksum: Fletcher-like over 32-bit words in the byte order the WAL
/// header's magic announces. `data` is a multiple of 8 bytes by construction.
fn checksum(big_endian: bool, data: &[u8], (mut s0, mut s1): (u32, u32)) -> (u32, u32) {
    let word = |b: &[u8]| {
        let b: [u8; 4] = b.try_into().expect("4 bytes");
        if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    };
    for pair in data.chunks_exact(8) {
        s0 = s0.wrapping_add(word(&pair[..4])).wrapping_add(s1);
        s1 = s1.wrapping_add(word(&pair[4..])).wrapping_add(s0);
    }
    (s0, s1)
}

/// One table row: its rowid and its record, decoded lazily by [`Row::get`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub rowid: i64,
    payload: Vec<u8>,
    columns: Vec<Column>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Column {
    serial_type: u64,
    start: usize,
    len: usize,
}

/// A column value, borrowed from its [`Row`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value<'a> {
    Null,
    Integer(i64),
    Real(f64),
    Text(&'a [u8]),
    Blob(&'a [u8]),
}

impl Row {
    /// Number of columns stored in the record.
    pub fn len(&self) -> usize {
        self.columns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// Column `index`; `Null` past the stored columns, as SQLite reads a column added
    /// by `ALTER TABLE` after the row was written. (An `INTEGER PRIMARY KEY` column is
    /// stored as `Null` too: its value is [`Row::rowid`].)
    pub fn get(&self, index: usize) -> Value<'_> {
        let Some(c) = self.columns.get(index) else {
            return Value::Null;
        };
        let bytes = &self.payload[c.start..c.start + c.len];
        match c.serial_type {
            0 => Value::Null,
            1..=6 => {
                let mut v = if bytes[0] & 0x80 != 0 { -1i64 } else { 0 };
                for &b in bytes {
                    v = (v << 8) | i64::from(b);
                }
                Value::Integer(v)
            }
            7 => Value::Real(f64::from_be_bytes(bytes.try_into().expect("8 bytes"))),
            8 => Value::Integer(0),
            9 => Value::Integer(1),
            t if t % 2 == 0 => Value::Blob(bytes),
            _ => Value::Text(bytes),
        }
    }
}

/// Splits a record (header of serial types, then the values) into columns.
fn parse_record(payload: &[u8]) -> Result<Vec<Column>, String> {
    let (header_len, mut at) = varint(payload).ok_or("truncated record header")?;
    let header_len = usize::try_from(header_len)
        .ok()
        .filter(|&h| h >= at && h <= payload.len())
        .ok_or_else(|| format!("record header length {header_len} out of bounds"))?;
    let mut start = header_len;
    let mut columns = Vec::new();
    while at < header_len {
        let (serial_type, n) = varint(&payload[at..header_len]).ok_or("truncated serial type")?;
        at += n;
        let len = match serial_type {
            0 | 8 | 9 => 0,
            1..=4 => serial_type as usize,
            5 => 6,
            6 | 7 => 8,
            10 | 11 => return Err(format!("reserved serial type {serial_type}")),
            t => usize::try_from((t - 12) / 2).map_err(|_| "value length overflows".to_owned())?,
        };
        let end = start
            .checked_add(len)
            .filter(|&e| e <= payload.len())
            .ok_or("value runs past the record")?;
        columns.push(Column {
            serial_type,
            start,
            len,
        });
        start = end;
    }
    Ok(columns)
}

/// SQLite's big-endian varint: 1 to 9 bytes, seven bits each, eight in the ninth.
fn varint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for i in 0..9 {
        let byte = *bytes.get(i)?;
        if i == 8 {
            return Some(((value << 8) | u64::from(byte), 9));
        }
        value = (value << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

fn be16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests;
