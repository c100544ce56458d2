use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use super::*;

#[test]
fn backoff_grows_then_caps_and_stays_within_bounds() {
    let one = Duration::from_secs(1);
    for failures in 1..40 {
        let ceiling = BACKOFF_BASE
            .saturating_mul(1 << (failures - 1).min(16))
            .min(BACKOFF_CAP);
        for unit in [0.0, 0.25, 0.5, 0.999_999, 1.0, -3.0, 7.0] {
            let d = backoff(failures, unit);
            assert!(d >= one && d <= ceiling, "{failures} {unit}: {d:?}");
        }
        assert_eq!(backoff(failures, 0.0), one);
        assert_eq!(backoff(failures, 1.0), ceiling);
    }
    assert_eq!(backoff(1, 1.0), BACKOFF_BASE);
    assert_eq!(backoff(2, 1.0), BACKOFF_BASE * 2);
    assert_eq!(backoff(u32::MAX, 1.0), BACKOFF_CAP);
    assert_eq!(backoff(0, 1.0), BACKOFF_BASE, "0 failures behaves like 1");
}

#[test]
fn jitter_stays_within_ten_percent() {
    let base = Duration::from_secs(60);
    for unit in [0.0, 0.5, 0.999, 1.0, -1.0, 2.0] {
        let d = jittered(base, unit);
        assert!(
            d >= Duration::from_secs(54) && d <= Duration::from_secs(66),
            "{d:?}"
        );
    }
    for _ in 0..100 {
        let u = random_unit();
        assert!((0.0..1.0).contains(&u));
    }
}

#[test]
fn server_interval_has_a_default_and_a_floor() {
    assert_eq!(interval(0), Duration::from_secs(60));
    assert_eq!(interval(1), Duration::from_secs(5));
    assert_eq!(interval(300), Duration::from_secs(300));
}

#[test]
fn sleep_stops_early_when_asked() {
    let stop = AtomicBool::new(true);
    let start = Instant::now();
    assert!(!sleep_unless_stopped(Duration::from_secs(60), &stop));
    assert!(start.elapsed() < Duration::from_secs(5));
    let go = AtomicBool::new(false);
    assert!(sleep_unless_stopped(Duration::from_millis(10), &go));
}
