//! Token buckets by key: how often one agent may send an inventory. Each key starts
//! with a full bucket of `burst` tokens and gains one per `interval`; a request that
//! finds the bucket empty is told how long until the next token.
//!
//! In memory, per server process (a replica counts its own callers, which the balancer
//! keeps mostly sticky); lost on restart, which only refills the buckets.

use std::collections::HashMap;
use std::sync::Mutex;

use rampart_store::Millis;

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: Millis,
}

/// See the module documentation.
#[derive(Debug)]
pub struct KeyedBuckets {
    burst: f64,
    interval: Millis,
    buckets: Mutex<HashMap<String, Bucket>>,
}

/// Past this many keys, full buckets are forgotten on the next take.
const SWEEP_AT: usize = 50_000;

impl KeyedBuckets {
    pub fn new(burst: u32, interval: Millis) -> KeyedBuckets {
        KeyedBuckets {
            burst: f64::from(burst.max(1)),
            interval: interval.max(1),
            buckets: Mutex::default(),
        }
    }

    /// Takes a token for `key` at `now`, or says how many milliseconds until one is
    /// there.
    pub fn take(&self, key: &str, now: Millis) -> Result<(), Millis> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= SWEEP_AT {
            let (burst, interval) = (self.burst, self.interval as f64);
            buckets.retain(|_, b| b.tokens + (now - b.at) as f64 / interval < burst);
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let elapsed = (now - bucket.at).max(0) as f64;
        bucket.tokens = (bucket.tokens + elapsed / self.interval as f64).min(self.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - bucket.tokens) * self.interval as f64).ceil() as Millis)
        }
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
