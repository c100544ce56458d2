//! Unit tests for the work spreader: order and progress, whatever the thread count.

use std::sync::Mutex;

use super::*;

fn check(count: usize, threads: usize) {
    let seen = Mutex::new(Vec::new());
    let record = |p: Progress| seen.lock().unwrap().push(p);
    let opts = LoadOptions {
        threads,
        progress: Some(&record),
        ..LoadOptions::default()
    };
    let out = run(
        count,
        &opts,
        || 0usize,
        |calls, i| {
            *calls += 1;
            i * 2
        },
    );
    assert_eq!(
        out,
        (0..count).map(|i| i * 2).collect::<Vec<_>>(),
        "count {count}, threads {threads}"
    );
    let seen = seen.into_inner().unwrap();
    let dones: Vec<u64> = seen
        .iter()
        .map(|p| match p {
            Progress::Parsing { done, total } => {
                assert_eq!(*total, count as u64);
                *done
            }
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert!(
        dones.windows(2).all(|w| w[0] < w[1]),
        "progress only grows: {dones:?}"
    );
    assert_eq!(dones.last().copied().unwrap_or(0), count as u64);
}

#[test]
fn results_come_back_in_order_with_monotonic_progress() {
    for (count, threads) in [
        (0, 1),
        (1, 1),
        (1, 4),
        (31, 2),
        (32, 2),
        (33, 2),
        (1000, 1),
        (1000, 2),
        (1000, 7),
    ] {
        check(count, threads);
    }
}
