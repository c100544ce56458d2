//! Slows down password guessing. Failed logins are counted per account name and per
//! client address over a sliding window; past a threshold, further attempts for that
//! key are refused *before* the password is checked (429 with `Retry-After`), for a
//! lockout that doubles with every further failure up to a cap. An attacker spraying
//! one password over many accounts hits the address limit; one guessing a single
//! account from many addresses hits the account limit. A success clears the account's
//! count (not the address's, which a shared NAT may still be abusing).
//!
//! State is in memory, per server process: with several replicas behind a balancer
//! each keeps its own count, so the effective limit is per replica. It is lost on
//! restart, which only resets the counts.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use rampart_store::Millis;

/// The thresholds; [`Policy::default`] is what the server uses.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Failures counted within this window.
    pub window: Millis,
    /// Failures per account name before lockouts start.
    pub per_account: u32,
    /// Failures per client address before lockouts start.
    pub per_address: u32,
    /// The first lockout; doubles with each further failure.
    pub base_lockout: Millis,
    pub max_lockout: Millis,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            window: 15 * 60_000,
            per_account: 5,
            per_address: 20,
            base_lockout: 30_000,
            max_lockout: 15 * 60_000,
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Failures {
    count: u32,
    first_at: Millis,
    locked_until: Millis,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Address(IpAddr),
}

/// Past this many tracked keys, expired entries are swept on the next failure.
const SWEEP_AT: usize = 10_000;

/// See the module documentation.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    policy: Policy,
    failures: Mutex<HashMap<Key, Failures>>,
}

impl LoginThrottle {
    pub fn new(policy: Policy) -> LoginThrottle {
        LoginThrottle {
            policy,
            failures: Mutex::default(),
        }
    }

    fn keys(name: &str, address: Option<IpAddr>) -> impl Iterator<Item = Key> {
        std::iter::once(Key::Account(name.trim().to_lowercase())).chain(address.map(Key::Address))
    }

    /// `Err(milliseconds to wait)` while the account or the address is locked out.
    pub fn check(&self, name: &str, address: Option<IpAddr>, now: Millis) -> Result<(), Millis> {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let wait = Self::keys(name, address)
            .filter_map(|k| failures.get(&k))
            .map(|f| f.locked_until - now)
            .max()
            .unwrap_or(0);
        if wait > 0 { Err(wait) } else { Ok(()) }
    }

    /// Counts a failed attempt against the account and the address.
    pub fn failed(&self, name: &str, address: Option<IpAddr>, now: Millis) {
        let p = self.policy;
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() >= SWEEP_AT {
            failures.retain(|_, f| now - f.first_at < p.window || f.locked_until > now);
        }
        for key in Self::keys(name, address) {
            let threshold = match key {
                Key::Account(_) => p.per_account,
                Key::Address(_) => p.per_address,
            };
            let f = failures.entry(key).or_default();
            if now - f.first_at >= p.window && f.locked_until <= now {
                *f = Failures {
                    count: 0,
                    first_at: now,
                    locked_until: 0,
                };
            }
            f.count += 1;
            if f.count >= threshold {
                let doublings = (f.count - threshold).min(20);
                let lockout = p
                    .base_lockout
                    .saturating_mul(1 << doublings)
                    .min(p.max_lockout);
                f.locked_until = now + lockout;
            }
        }
    }

    /// A successful login clears the account's failures.
    pub fn succeeded(&self, name: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.remove(&Key::Account(name.trim().to_lowercase()));
    }
}

#[cfg(test)]
mod tests;
