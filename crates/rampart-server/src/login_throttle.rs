//! Slows down password guessing without handing attackers a way to lock owners out.
//!
//! Failed logins are counted over a sliding window under three keys, and past a
//! threshold further attempts under that key are refused *before* the password is
//! checked (429 with `Retry-After`), for a lockout that doubles with every further
//! failure up to a cap:
//!
//! - **the account from one address** (strict: 5): one source guessing one account;
//! - **the address** (20, IPv6 counted per /64, which one subscriber usually holds): one
//!   source spraying a password over many accounts;
//! - **the account from anywhere** (5): many sources guessing one account. This lock
//!   does *not* apply to an address the account logged in from successfully within the
//!   last 30 days, so a stranger failing logins for `admin` from elsewhere cannot keep
//!   the admin out of their usual desk; from a new address the owner waits like the
//!   attacker (a second factor will lift that).
//!
//! An attempt is counted when it *starts* ([`LoginThrottle::begin`]), not after the
//! password hash is checked, so a burst of parallel guesses cannot all pass the check
//! before the first failure is recorded; a success takes its attempt back.
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
    /// Failures per account from one address before lockouts start.
    pub per_account_address: u32,
    /// Failures per account from every address not known for it.
    pub per_account: u32,
    /// Failures per client address before lockouts start.
    pub per_address: u32,
    /// The first lockout; doubles with each further failure.
    pub base_lockout: Millis,
    pub max_lockout: Millis,
    /// How long an address stays known for an account after a successful login.
    pub known_for: Millis,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            window: 15 * 60_000,
            per_account_address: 5,
            per_account: 5,
            per_address: 20,
            base_lockout: 30_000,
            max_lockout: 15 * 60_000,
            known_for: 30 * 86_400_000,
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Failures {
    count: u32,
    first_at: Millis,
    locked_until: Millis,
}

/// An address as counted: IPv4 whole, IPv6 by its /64.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Source(u128);

impl Source {
    fn of(ip: IpAddr) -> Source {
        match ip {
            IpAddr::V4(v4) => Source(u128::from(v4.to_bits())),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Source(u128::from(v4.to_bits())),
                None => Source((v6.to_bits() >> 64) << 64 | 1 << 32),
            },
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    AccountFrom(String, Source),
    Address(Source),
}

/// Past this many tracked keys, expired entries are swept on the next failure.
const SWEEP_AT: usize = 10_000;
/// Addresses remembered per account.
const KNOWN_PER_ACCOUNT: usize = 8;
/// Longest account name a key holds: longer ones cannot exist, and must not make
/// the table hold megabytes.
const MAX_NAME: usize = 128;

#[derive(Debug, Default)]
struct State {
    /// When expired entries were last swept (at most once a minute, so a full table
    /// does not make every attempt walk it).
    swept_at: Millis,
    failures: HashMap<Key, Failures>,
    /// Per account: addresses of recent successful logins, with when.
    known: HashMap<String, Vec<(Source, Millis)>>,
}

/// See the module documentation.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    policy: Policy,
    state: Mutex<State>,
}

/// A login attempt counted by [`LoginThrottle::begin`]; hand it back to
/// [`LoginThrottle::succeeded`] when the password was right.
#[derive(Debug)]
#[must_use]
pub struct Attempt {
    account: String,
    source: Option<Source>,
}

fn account(name: &str) -> String {
    name.trim()
        .chars()
        .take(MAX_NAME)
        .collect::<String>()
        .to_lowercase()
}

impl LoginThrottle {
    pub fn new(policy: Policy) -> LoginThrottle {
        LoginThrottle {
            policy,
            state: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The keys an attempt counts under, with their thresholds; the account-wide key
    /// only when the address is not known for the account.
    fn keys(
        &self,
        state: &State,
        account: &str,
        source: Option<Source>,
        now: Millis,
    ) -> Vec<(Key, u32)> {
        let p = self.policy;
        let known = source.is_some_and(|s| {
            state
                .known
                .get(account)
                .is_some_and(|list| list.iter().any(|(k, at)| *k == s && now - at < p.known_for))
        });
        let mut keys = Vec::with_capacity(3);
        if let Some(s) = source {
            keys.push((
                Key::AccountFrom(account.to_owned(), s),
                p.per_account_address,
            ));
            keys.push((Key::Address(s), p.per_address));
        }
        if !known {
            keys.push((Key::Account(account.to_owned()), p.per_account));
        }
        keys
    }

    /// Counts an attempt for `name` from `address` — `Err(milliseconds to wait)` while
    /// a key it counts under is locked out (then nothing is counted).
    pub fn begin(
        &self,
        name: &str,
        address: Option<IpAddr>,
        now: Millis,
    ) -> Result<Attempt, Millis> {
        let p = self.policy;
        let account = account(name);
        let source = address.map(Source::of);
        let mut state = self.lock();
        let keys = self.keys(&state, &account, source, now);
        let wait = keys
            .iter()
            .filter_map(|(k, _)| state.failures.get(k))
            .map(|f| f.locked_until - now)
            .max()
            .unwrap_or(0);
        if wait > 0 {
            return Err(wait);
        }
        if state.failures.len() >= SWEEP_AT && now - state.swept_at >= 60_000 {
            state.swept_at = now;
            state
                .failures
                .retain(|_, f| now - f.first_at < p.window || f.locked_until > now);
            state
                .known
                .retain(|_, list| list.iter().any(|(_, at)| now - at < p.known_for));
        }
        for (key, threshold) in keys {
            let f = state.failures.entry(key).or_default();
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
        Ok(Attempt { account, source })
    }

    /// The password was right: the account's failures are cleared, the address's count
    /// gives this attempt back, and the address becomes known for the account.
    pub fn succeeded(&self, attempt: Attempt, now: Millis) {
        let mut state = self.lock();
        state
            .failures
            .remove(&Key::Account(attempt.account.clone()));
        let Some(source) = attempt.source else { return };
        state
            .failures
            .remove(&Key::AccountFrom(attempt.account.clone(), source));
        if let Some(f) = state.failures.get_mut(&Key::Address(source)) {
            f.count = f.count.saturating_sub(1);
            if f.count < self.policy.per_address {
                f.locked_until = 0;
            }
        }
        let known = state.known.entry(attempt.account).or_default();
        known.retain(|(s, _)| *s != source);
        known.push((source, now));
        if known.len() > KNOWN_PER_ACCOUNT {
            known.remove(0);
        }
    }
}

#[cfg(test)]
mod tests;
