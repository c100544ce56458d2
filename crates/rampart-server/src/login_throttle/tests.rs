use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;

const A: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
const B: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)));
const OWNER: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7)));

/// `n` failed attempts (begun, never succeeded), each at `at`.
fn fail(t: &LoginThrottle, name: &str, addr: Option<IpAddr>, n: u32, at: Millis) {
    for _ in 0..n {
        let _ = t.begin(name, addr, at).expect("not locked yet");
    }
}

#[test]
fn an_account_locks_from_an_address_after_its_threshold_and_the_lockout_doubles() {
    let t = LoginThrottle::new(Policy::default());
    fail(&t, "alice", A, 4, 0);
    assert!(t.begin("alice", A, 10).is_ok()); // the fifth counts, and locks
    assert_eq!(t.begin("ALICE ", A, 10).unwrap_err(), 30_000);
    assert_eq!(t.begin("alice", A, 20_010).unwrap_err(), 10_000);
    assert!(t.begin("alice", A, 30_010).is_ok());
    assert_eq!(t.begin("alice", A, 30_010).unwrap_err(), 60_000);
    // Other accounts from elsewhere are unaffected.
    assert!(t.begin("bob", B, 30_010).is_ok());
}

#[test]
fn a_success_gives_the_attempt_back_and_clears_the_account() {
    let t = LoginThrottle::new(Policy::default());
    fail(&t, "alice", A, 3, 0);
    let ok = t.begin("alice", A, 1).unwrap();
    t.succeeded(ok, 1);
    fail(&t, "alice", A, 4, 2);
    assert!(t.begin("alice", A, 3).is_ok(), "the count started again");
}

/// The review's finding: anyone could lock any account for 15 minutes. Failures from
/// strangers still lock the account for new addresses, but not for the address its
/// owner logs in from.
#[test]
fn strangers_cannot_lock_the_owner_out_of_a_known_address() {
    let t = LoginThrottle::new(Policy::default());
    let ok = t.begin("admin", OWNER, 0).unwrap();
    t.succeeded(ok, 0);
    // Ten attackers, a few guesses each.
    for i in 0..10u8 {
        let addr = Some(IpAddr::V4(Ipv4Addr::new(203, 0, 113, i)));
        for _ in 0..3 {
            let _ = t.begin("admin", addr, 1_000);
        }
    }
    assert!(t.begin("admin", A, 1_000).is_err(), "a new address waits");
    let owner = t
        .begin("admin", OWNER, 1_000)
        .expect("the owner's address is not locked");
    t.succeeded(owner, 1_000);
    // Known only for a while.
    let later = Policy::default().known_for + 2_000;
    fail(&t, "admin", A, 5, later);
    assert!(t.begin("admin", OWNER, later).is_err());
}

#[test]
fn parallel_attempts_are_counted_before_any_password_is_checked() {
    let t = LoginThrottle::new(Policy::default());
    // Begun, not finished: a burst of six at once; the sixth is refused.
    let attempts: Vec<_> = (0..5).map(|_| t.begin("carol", A, 0).unwrap()).collect();
    assert!(t.begin("carol", A, 0).is_err());
    drop(attempts);
}

#[test]
fn an_address_spraying_many_accounts_locks_and_ipv6_counts_per_64() {
    let t = LoginThrottle::new(Policy::default());
    for i in 0..20 {
        let _ = t.begin(&format!("user{i}"), A, i64::from(i)).unwrap();
    }
    assert!(t.begin("someone-else", A, 100).is_err());
    assert!(t.begin("someone-else", B, 100).is_ok());

    let v6 = |last: u16| {
        Some(IpAddr::V6(Ipv6Addr::new(
            0x2001, 0xdb8, 1, 2, 0, 0, 0, last,
        )))
    };
    for i in 0..20u16 {
        let _ = t.begin(&format!("v6user{i}"), v6(i), 0).unwrap();
    }
    assert!(t.begin("v6-else", v6(999), 0).is_err(), "the same /64");
}

#[test]
fn failures_outside_the_window_are_forgotten_and_lockouts_are_capped() {
    let p = Policy::default();
    let t = LoginThrottle::new(p);
    fail(&t, "carol", A, 4, 0);
    let later = p.window + 10;
    fail(&t, "carol", A, 1, later);
    assert!(
        t.begin("carol", A, later).is_ok(),
        "a new window starts at 1"
    );
    for i in 0..60 {
        let _ = t.begin("dave", None, i);
    }
    let wait = t.begin("dave", None, 60).unwrap_err();
    assert!(wait <= p.max_lockout, "{wait}");
}

#[test]
fn huge_names_are_keyed_by_a_bounded_prefix() {
    let t = LoginThrottle::new(Policy::default());
    let long = "x".repeat(1 << 20);
    fail(&t, &long, A, 5, 0);
    let state = t.lock();
    assert!(state.failures.keys().all(|k| match k {
        Key::Account(a) | Key::AccountFrom(a, _) => a.len() <= MAX_NAME,
        Key::Address(_) => true,
    }));
}
