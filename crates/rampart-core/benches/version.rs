//! Version comparison throughput for dpkg, RPM and apk ordering over realistic pairs:
//! an installed version against the version an advisory names as fixed (one number
//! further on), against its neighbour in sorted order, and sometimes against itself.
//!
//! The deb pairs come from the file named by `RAMPART_VERCMP_PAIRS` (one `A<TAB>B` pair
//! a line; `bench/vercmp-vs-apt.sh` writes it from this machine's installed packages),
//! else from a generated list. Two switches serve that script:
//! - `RAMPART_VERCMP_WRITE_PAIRS=FILE` writes the generated deb list to FILE and exits;
//! - `RAMPART_VERCMP_TIMING=deb,rpm,apk` (or `all`) prints plain ns/comparison figures
//!   for those families (best of five runs, the same method as the libapt-pkg harness in
//!   `bench/vercmp-apt/`) instead of running criterion.

use std::cmp::Ordering;
use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, Throughput};
use rampart_core::version::{apk, deb, rpm};

type Pairs = Vec<(String, String)>;

/// SplitMix64, so the generated lists are the same on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % n
    }
}

/// The version an advisory would call fixed: the last number one higher.
fn bump(v: &str) -> String {
    let bytes = v.as_bytes();
    let Some(end) = bytes.iter().rposition(u8::is_ascii_digit).map(|i| i + 1) else {
        return format!("{v}.1");
    };
    let start = bytes[..end]
        .iter()
        .rposition(|b| !b.is_ascii_digit())
        .map_or(0, |i| i + 1);
    let n: u128 = v[start..end].parse().unwrap_or(0);
    format!("{}{}{}", &v[..start], n + 1, &v[end..])
}

/// Each version against its bumped self both ways and its sorted neighbour; every
/// fourth one against itself too. `bench/vercmp-vs-apt.sh` pairs installed versions the
/// same way.
fn pair_up(mut versions: Vec<String>, cmp: fn(&str, &str) -> Ordering) -> Pairs {
    versions.sort_by(|a, b| cmp(a, b));
    versions.dedup();
    let mut pairs = Vec::new();
    for (i, v) in versions.iter().enumerate() {
        let fixed = bump(v);
        pairs.push((v.clone(), fixed.clone()));
        pairs.push((fixed, v.clone()));
        if let Some(next) = versions.get(i + 1) {
            pairs.push((v.clone(), next.clone()));
        }
        if i % 4 == 0 {
            pairs.push((v.clone(), v.clone()));
        }
    }
    pairs
}

fn generated_deb_versions() -> Vec<String> {
    let mut rng = Rng(0xdeb);
    let upstream = |r: &mut Rng| {
        let (a, b, c) = (r.below(12), r.below(40), r.below(30));
        match r.below(8) {
            0 => format!("{a}.{b}"),
            1 => format!("{a}.{b}.{c}+dfsg"),
            2 => format!("{a}.{b}~rc{c}"),
            3 => format!("0.0~git2023{:04}.{:07x}", r.below(1300), r.below(1 << 28)),
            4 => format!("{}:{a}.{b}.{c}", 1 + r.below(3)),
            5 => format!("{a}.{b}.{c}.{}", r.below(9)),
            _ => format!("{a}.{b}.{c}"),
        }
    };
    let revision = |r: &mut Rng| {
        let (n, m) = (1 + r.below(9), 1 + r.below(12));
        match r.below(7) {
            0 => String::new(),
            1 => format!("-{n}+deb12u{m}"),
            2 => format!("-{n}ubuntu{m}"),
            3 => format!("-{n}~bpo12+{m}"),
            4 => format!("-{n}+b{m}"),
            _ => format!("-{n}"),
        }
    };
    (0..400)
        .map(|_| upstream(&mut rng) + &revision(&mut rng))
        .collect()
}

fn rpm_versions() -> Vec<String> {
    let mut rng = Rng(0x4e1);
    (0..400)
        .map(|_| {
            let (a, b, c, rel) = (
                rng.below(10),
                rng.below(30),
                rng.below(40),
                1 + rng.below(300),
            );
            let epoch = if rng.below(4) == 0 {
                format!("{}:", 1 + rng.below(3))
            } else {
                String::new()
            };
            let dist = match rng.below(4) {
                0 => format!("el8_{}", rng.below(10)),
                1 => format!(
                    "module+el8.{}.0+{}+{:08x}",
                    rng.below(10),
                    rng.below(30000),
                    rng.below(1 << 32)
                ),
                2 => format!("fc{}", 38 + rng.below(4)),
                _ => format!("el9_{}", rng.below(6)),
            };
            format!("{epoch}{a}.{b}.{c}-{rel}.{dist}")
        })
        .collect()
}

fn apk_versions() -> Vec<String> {
    let mut rng = Rng(0xa1b);
    (0..400)
        .map(|_| {
            let (a, b, c, r) = (rng.below(10), rng.below(30), rng.below(40), rng.below(12));
            let extra = match rng.below(8) {
                0 => format!("_p{}", rng.below(20)),
                1 => format!("_rc{}", rng.below(5)),
                2 => format!("_git{}", 20200101 + rng.below(50000)),
                3 => ((b'a' + rng.below(6) as u8) as char).to_string(),
                _ => String::new(),
            };
            format!("{a}.{b}.{c}{extra}-r{r}")
        })
        .collect()
}

fn deb_pairs() -> Pairs {
    let Some(path) = std::env::var_os("RAMPART_VERCMP_PAIRS") else {
        return pair_up(generated_deb_versions(), deb::compare);
    };
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let pairs: Pairs = text
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect();
    assert!(!pairs.is_empty(), "no pairs in {}", path.display());
    pairs
}

/// Best of five runs, each about half a second, in ns per comparison.
fn time(pairs: &Pairs, cmp: fn(&str, &str) -> Ordering) -> (f64, usize) {
    let rounds = (25_000_000 / pairs.len()).max(1);
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..rounds {
            for (a, b) in pairs {
                black_box(cmp(black_box(a), black_box(b)));
            }
        }
        best = best.min(start.elapsed().as_nanos() as f64 / (rounds * pairs.len()) as f64);
    }
    (best, rounds)
}

fn print_timing(name: &str, pairs: &Pairs, cmp: fn(&str, &str) -> Ordering) {
    let count = |o: Ordering| pairs.iter().filter(|(a, b)| cmp(a, b) == o).count();
    let (ns, rounds) = time(pairs, cmp);
    println!(
        "{name}: {ns:.1} ns/comparison ({} pairs x {rounds} rounds, best of 5; <{} ={} >{})",
        pairs.len(),
        count(Ordering::Less),
        count(Ordering::Equal),
        count(Ordering::Greater)
    );
}

fn bench_one(c: &mut Criterion, name: &str, pairs: &Pairs, cmp: fn(&str, &str) -> Ordering) {
    let mut group = c.benchmark_group("vercmp");
    group.throughput(Throughput::Elements(pairs.len() as u64));
    group.bench_function(name, |b| {
        b.iter(|| {
            for (x, y) in pairs {
                black_box(cmp(black_box(x), black_box(y)));
            }
        })
    });
    group.finish();
}

fn main() {
    if let Some(path) = std::env::var_os("RAMPART_VERCMP_WRITE_PAIRS") {
        let lines: String = pair_up(generated_deb_versions(), deb::compare)
            .iter()
            .map(|(a, b)| format!("{a}\t{b}\n"))
            .collect();
        std::fs::write(&path, lines).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        return;
    }
    let deb = deb_pairs();
    let rpm = pair_up(rpm_versions(), rpm::compare);
    let apk = pair_up(apk_versions(), apk::compare);
    if let Some(families) = std::env::var_os("RAMPART_VERCMP_TIMING") {
        let wanted = |family: &str| {
            families == "all" || families.to_string_lossy().split(',').any(|f| f == family)
        };
        if wanted("deb") {
            print_timing("rampart deb::compare", &deb, deb::compare);
        }
        if wanted("rpm") {
            print_timing("rampart rpm::compare", &rpm, rpm::compare);
        }
        if wanted("apk") {
            print_timing("rampart apk::compare", &apk, apk::compare);
        }
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    bench_one(&mut c, "deb", &deb, deb::compare);
    bench_one(&mut c, "rpm", &rpm, rpm::compare);
    bench_one(&mut c, "apk", &apk, apk::compare);
    c.final_summary();
}
