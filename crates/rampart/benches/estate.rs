//! Fleet evaluation budget: 10,000 hosts from ~20 images of this machine's real package
//! list, 100,000 synthetic advisories over real source names. Full evaluation must stay
//! under 2 s and peak RSS under 1 GiB; one new advisory must re-evaluate in under 50 ms.
//!
//! `cargo bench -p rampart --bench estate`

#[path = "synth.rs"]
mod synth;

use std::hint::black_box;
use std::time::Instant;

use criterion::Criterion;
use rampart_core::matcher::{AdvisoryIndex, Estate};

const HOSTS: usize = 10_000;
const IMAGES: usize = 20;
const ADVISORIES: usize = 100_000;
const DRIFT: usize = 3;

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let mut rng = synth::Rng::new(0x5eed);
    let (release, base) = synth::base();
    let sources = synth::sources(&base);

    let t = Instant::now();
    let advisories: Vec<_> = (0..ADVISORIES)
        .map(|k| synth::advisory(&release, &sources, k, &mut rng))
        .collect();
    let mut index = AdvisoryIndex::from_advisories(advisories);
    eprintln!(
        "index: {} advisories over {} source packages in {:.2?}",
        index.len(),
        sources.len(),
        t.elapsed()
    );

    let images = synth::images(&base, IMAGES, &mut rng);
    let mut estate = Estate::new();
    let mut ingest = std::time::Duration::ZERO;
    for h in 0..HOSTS {
        let inventory = synth::host(&images[h % IMAGES], DRIFT, &mut rng);
        let t = Instant::now();
        let set = estate.add_package_set(&release, &inventory);
        estate.add_host(set);
        ingest += t.elapsed();
    }
    eprintln!(
        "ingest: {HOSTS} hosts ({} packages in the base image) interned in {ingest:.2?} ({:.0?} per host)",
        base.len(),
        ingest / HOSTS as u32
    );

    let t = Instant::now();
    let stats = estate.evaluate(&index);
    eprintln!("first full evaluation in {:.2?}: {stats:?}", t.elapsed());

    let mut c = Criterion::default().sample_size(10).configure_from_args();
    c.bench_function("estate/full_evaluation_10k_hosts_100k_advisories", |b| {
        b.iter(|| black_box(estate.evaluate(&index)))
    });

    // The most widespread source package: the worst case for one new advisory.
    let popular = sources.iter().position(|(s, _)| s == "glibc").unwrap_or(0);
    let mut k = ADVISORIES;
    c.bench_function("estate/one_new_advisory_on_a_package_every_host_has", |b| {
        b.iter(|| {
            k += 1;
            let mut one = synth::advisory(&release, &sources[popular..=popular], k, &mut rng);
            one.affected[0].ranges[0].events = vec![
                rampart_core::advisory::Event::Introduced("0".into()),
                rampart_core::advisory::Event::Fixed("99999:0".into()),
            ];
            let touched = index.insert(one);
            black_box(estate.apply(&index, &touched))
        })
    });
    c.final_summary();
    match peak_rss_mib() {
        Some(mib) => eprintln!("peak RSS: {mib:.0} MiB"),
        None => eprintln!("peak RSS: unavailable (no /proc/self/status)"),
    }
}
