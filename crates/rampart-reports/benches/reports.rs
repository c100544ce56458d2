//! Rendering budgets of issue 4: a compliance report of 10,000 hosts as CSV in under 2 s
//! and as PDF in under 10 s (figures in BENCHMARKS.md). The findings report is measured
//! beside it at 10,000 hosts × 5 findings. Reports are synthetic but shaped like a real
//! estate's (tests/it/sample.rs), built before timing: only rendering is measured.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rampart_reports::{Format, render_compliance, render_findings};

#[path = "../tests/it/sample.rs"]
#[allow(dead_code, unreachable_pub)]
mod sample;

fn reports(c: &mut Criterion) {
    let compliance = sample::compliance(10_000);
    let findings = sample::findings(10_000, 5);
    let mut group = c.benchmark_group("reports");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    for format in Format::ALL {
        group.bench_function(format!("compliance_10k_hosts_{format}"), |b| {
            b.iter(|| render_compliance(&compliance, format).unwrap().len())
        });
    }
    for format in Format::ALL {
        group.bench_function(format!("findings_50k_rows_{format}"), |b| {
            b.iter(|| render_findings(&findings, format).unwrap().len())
        });
    }
    group.finish();
}

criterion_group!(benches, reports);
criterion_main!(benches);
