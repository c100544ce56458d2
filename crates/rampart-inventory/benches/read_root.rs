//! How long reading this machine's package databases takes: the agent does it on
//! every collection, so it must stay far below the 50 ms budget (`cargo bench -p
//! rampart-inventory`). Reads the running system, so numbers vary by machine.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let status = Path::new("/var/lib/dpkg/status");
    if let Ok(text) = std::fs::read_to_string(status) {
        c.bench_function("dpkg::parse_status (this machine)", |b| {
            b.iter(|| rampart_inventory::dpkg::parse_status(black_box(&text)))
        });
    }
    if rampart_inventory::read_root(Path::new("/")).is_ok() {
        c.bench_function("read_root(/) (this machine)", |b| {
            b.iter(|| rampart_inventory::read_root(black_box(Path::new("/"))))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
