//! Helpers shared by the integration tests: the shared test data, system tools the
//! differential tests ask, and a small seeded generator so generated cases reproduce.

use std::cmp::Ordering;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// `../shared/testdata` beside the workspace; a missing folder fails the test.
pub(crate) fn testdata_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata");
    assert!(
        dir.is_dir(),
        "shared test data not found at {}: the tests need ../shared/testdata beside the workspace",
        dir.display()
    );
    dir
}

/// One `A < B`, `A = B` or `A > B` line of a vector file.
#[derive(Debug)]
pub(crate) struct Vector {
    pub(crate) line: usize,
    pub(crate) a: String,
    pub(crate) b: String,
    pub(crate) expected: Ordering,
}

/// Reads `testdata/versions/<file>`: one vector a line, `#` comments and blank lines.
pub(crate) fn read_vectors(file: &str) -> Vec<Vector> {
    let path = testdata_dir().join("versions").join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut vectors = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [a, op, b] = parts[..] else {
            panic!(
                "{}:{}: expected `A op B`, got {raw:?}",
                path.display(),
                i + 1
            );
        };
        let expected = match op {
            "<" => Ordering::Less,
            "=" => Ordering::Equal,
            ">" => Ordering::Greater,
            _ => panic!("{}:{}: unknown operator {op:?}", path.display(), i + 1),
        };
        vectors.push(Vector {
            line: i + 1,
            a: a.to_owned(),
            b: b.to_owned(),
            expected,
        });
    }
    vectors
}

/// Whether `program args…` runs and succeeds. Missing tools fail the test under CI and
/// skip it elsewhere, saying why.
pub(crate) fn require_tool(program: &str, args: &[&str], why: &str) -> bool {
    let ok = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "`{program} {}` is needed ({why}) and CI is set: install it (see .ci/run)",
            args.join(" ")
        );
        eprintln!(
            "skipping: `{program} {}` is not available ({why})",
            args.join(" ")
        );
    }
    ok
}

/// SplitMix64: tiny, fast and the same on every machine, so a failing case reproduces.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `percent` / 100.
    pub(crate) fn percent(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

pub(crate) fn ordering_symbol(o: Ordering) -> &'static str {
    match o {
        Ordering::Less => "<",
        Ordering::Equal => "=",
        Ordering::Greater => ">",
    }
}
