//! A full inventory of this machine (`--root /`): what every agent check-in costs.
//! Budget: under 300 ms (see BENCHMARKS.md).

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};

fn inventory(c: &mut Criterion) {
    let mut group = c.benchmark_group("inventory");
    group.sample_size(20);
    group.bench_function("root_slash", |b| {
        b.iter(|| black_box(rampart_agent::collect::collect(Path::new("/"), 0).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, inventory);
criterion_main!(benches);
