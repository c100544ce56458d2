use std::net::{IpAddr, Ipv4Addr};

use super::*;

const A: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
const B: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)));

#[test]
fn an_account_locks_after_its_threshold_and_the_lockout_doubles() {
    let t = LoginThrottle::new(Policy::default());
    for i in 0..4 {
        assert_eq!(t.check("alice", A, i), Ok(()));
        t.failed("alice", A, i);
    }
    assert_eq!(t.check("alice", A, 10), Ok(()));
    t.failed("Alice ", B, 10); // the same account, whatever the case or address
    assert_eq!(t.check("alice", None, 10), Err(30_000));
    assert_eq!(t.check("ALICE", B, 20_010), Err(10_000));
    assert_eq!(t.check("alice", A, 30_010), Ok(()));
    t.failed("alice", A, 30_010);
    assert_eq!(t.check("alice", A, 30_010), Err(60_000));
    // Other accounts are unaffected.
    assert_eq!(t.check("bob", B, 30_010), Ok(()));
    // A success clears the account.
    t.succeeded("alice");
    assert_eq!(t.check("alice", B, 30_011), Ok(()));
}

#[test]
fn an_address_spraying_many_accounts_locks() {
    let t = LoginThrottle::new(Policy::default());
    for i in 0..20 {
        t.failed(&format!("user{i}"), A, i64::from(i));
    }
    assert!(t.check("someone-else", A, 100).is_err());
    assert_eq!(t.check("someone-else", B, 100), Ok(()));
}

#[test]
fn failures_outside_the_window_are_forgotten_and_lockouts_are_capped() {
    let p = Policy::default();
    let t = LoginThrottle::new(p);
    for i in 0..4 {
        t.failed("carol", None, i);
    }
    let later = p.window + 10;
    t.failed("carol", None, later);
    assert_eq!(
        t.check("carol", None, later),
        Ok(()),
        "a new window starts at 1"
    );
    for i in 0..60 {
        t.failed("dave", None, i);
    }
    assert_eq!(t.check("dave", None, 60), Err(p.max_lockout - 1));
}
