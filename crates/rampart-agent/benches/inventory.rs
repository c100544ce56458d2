//! A full inventory of this machine (`--root /`): what every agent check-in costs.
//! Budget: under 300 ms (see BENCHMARKS.md). Also the RPM update path's heaviest step on
//! a Fedora-sized repository: streaming a 70,000-package `primary.xml.zst` and keeping
//! the 500 names a host has installed.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use rampart_agent::collect::repodata;

fn inventory(c: &mut Criterion) {
    let mut group = c.benchmark_group("inventory");
    group.sample_size(20);
    group.bench_function("root_slash", |b| {
        b.iter(|| black_box(rampart_agent::collect::collect(Path::new("/"), 0).unwrap()))
    });
    group.finish();
}

/// Synthetic primary.xml shaped like Fedora's (name, arch, version, and the `<format>`
/// block with provides and requires that makes up most of the bytes).
fn fedora_sized_primary(packages: usize) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata xmlns=\"http://linux.duke.edu/metadata/common\" xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\">\n",
    );
    for i in 0..packages {
        writeln!(
            xml,
            "<package type=\"rpm\"><name>pkg-{i}</name><arch>x86_64</arch>\
             <version epoch=\"0\" ver=\"1.{i}\" rel=\"1.fc40\"/>\
             <checksum type=\"sha256\" pkgid=\"YES\">{i:064x}</checksum>\
             <summary>Package number {i}</summary><description>A synthetic package used to measure how fast primary.xml streams through the agent.</description>\
             <packager>Fedora Project</packager><url>https://example.invalid/{i}</url>\
             <time file=\"1700000000\" build=\"1700000000\"/><size package=\"1000\" installed=\"2000\" archive=\"3000\"/>\
             <location href=\"Packages/p/pkg-{i}-1.{i}-1.fc40.x86_64.rpm\"/>\
             <format><rpm:license>MIT</rpm:license><rpm:sourcerpm>pkg-{i}-1.{i}-1.fc40.src.rpm</rpm:sourcerpm>\
             <rpm:provides><rpm:entry name=\"pkg-{i}\" flags=\"EQ\" epoch=\"0\" ver=\"1.{i}\" rel=\"1.fc40\"/>\
             <rpm:entry name=\"pkg-{i}(x86-64)\" flags=\"EQ\" epoch=\"0\" ver=\"1.{i}\" rel=\"1.fc40\"/></rpm:provides>\
             <rpm:requires><rpm:entry name=\"libc.so.6()(64bit)\"/><rpm:entry name=\"rtld(GNU_HASH)\"/></rpm:requires>\
             <file>/usr/bin/pkg-{i}</file></format></package>"
        )
        .unwrap();
    }
    xml + "</metadata>\n"
}

fn rpm_primary(c: &mut Criterion) {
    let xml = fedora_sized_primary(70_000);
    let zst = ruzstd::encoding::compress_to_vec(
        xml.as_bytes(),
        ruzstd::encoding::CompressionLevel::Fastest,
    );
    let wanted: std::collections::HashSet<String> = (0..70_000)
        .step_by(140)
        .map(|i| format!("pkg-{i}"))
        .collect();
    let mut group = c.benchmark_group("updates");
    group.sample_size(10);
    group.bench_function("primary_70k_zst", |b| {
        b.iter(|| {
            let input = repodata::decompressed("primary.xml.zst", &zst).unwrap();
            let (found, _) = repodata::parse_primary(input, |n| wanted.contains(n));
            assert_eq!(found.len(), 500);
            black_box(found)
        })
    });
    group.finish();
}

criterion_group!(benches, inventory, rpm_primary);
criterion_main!(benches);
