//! Token buckets by key: how often one agent may send an inventory. Each key starts
//! with a full bucket of `burst` tokens and gains one per `interval`; a request that
//! finds the bucket empty is told how long until the next token. Kept in the generic
//! cell rate form (one "theoretical arrival time" per key), in whole milliseconds, so
//! the arithmetic is exact.
//!
//! In memory, per server process (a replica counts its own callers, which the balancer
//! keeps mostly sticky); lost on restart, which only refills the buckets.

use std::collections::HashMap;
use std::sync::Mutex;

use rampart_store::Millis;

/// See the module documentation.
#[derive(Debug)]
pub struct KeyedBuckets {
    burst: i64,
    interval: Millis,
    /// Per key: when the bucket is full again (every token given back); and when full
    /// buckets were last forgotten (at most once a minute).
    full_at: Mutex<(HashMap<String, Millis>, Millis)>,
}

/// Past this many keys, full buckets are forgotten on the next take.
const SWEEP_AT: usize = 50_000;

impl KeyedBuckets {
    pub fn new(burst: u32, interval: Millis) -> KeyedBuckets {
        KeyedBuckets {
            burst: i64::from(burst.max(1)),
            interval: interval.max(1),
            full_at: Mutex::default(),
        }
    }

    /// Takes a token for `key` at `now`, or says how many milliseconds until one is
    /// there.
    pub fn take(&self, key: &str, now: Millis) -> Result<(), Millis> {
        let mut guard = self.full_at.lock().unwrap_or_else(|e| e.into_inner());
        let (full_at, swept_at) = &mut *guard;
        if full_at.len() >= SWEEP_AT && now - *swept_at >= 60_000 {
            *swept_at = now;
            full_at.retain(|_, at| *at > now);
        }
        let at = full_at.entry(key.to_owned()).or_insert(now);
        let start = (*at).max(now);
        // Taking a token pushes "full again" one interval later; that may be at most
        // `burst` intervals ahead.
        let after = start.saturating_add(self.interval);
        let limit = now.saturating_add(self.burst.saturating_mul(self.interval));
        if after > limit {
            return Err(after - limit);
        }
        *at = after;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_per_interval() {
        let b = KeyedBuckets::new(3, 30_000);
        for _ in 0..3 {
            assert_eq!(b.take("a", 0), Ok(()));
        }
        assert_eq!(b.take("a", 0), Err(30_000));
        assert_eq!(b.take("b", 0), Ok(()), "keys are independent");
        assert_eq!(b.take("a", 10_000), Err(20_000));
        assert_eq!(b.take("a", 30_000), Ok(()));
        assert_eq!(b.take("a", 30_000), Err(30_000));
        // A long pause refills to the burst, not beyond.
        for _ in 0..3 {
            assert_eq!(b.take("a", 10_000_000), Ok(()));
        }
        assert!(b.take("a", 10_000_000).is_err());
    }
}
