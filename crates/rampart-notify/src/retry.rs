//! The retry policy, pure: given how many attempts were made and how the last one
//! failed, deliver again later or give up. The dispatcher passes the random jitter in,
//! so every decision is reproducible in tests.

use std::time::Duration;

/// Exponential backoff with "equal jitter": the n-th retry waits between half and all
/// of `min(max_delay, base · 2^(n-1))`, so retries from many servers spread out while
/// each still waits at least half the nominal delay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included; after the last the delivery fails.
    pub max_attempts: u32,
    pub base: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 8 attempts over about 2 hours: 30 s, 1, 2, 4, 8, 16, 32, 60 min (before jitter).
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 8,
            base: Duration::from_secs(30),
            max_delay: Duration::from_secs(3600),
        }
    }
}

/// How one attempt failed, as far as retrying is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Whether trying again can help (a timeout, a 5xx, a 429), or not (a 4xx, a
    /// malformed address, a refused sender).
    pub retryable: bool,
    /// The peer asked to wait this long (`Retry-After`).
    pub retry_after: Option<Duration>,
    /// What to show operators; never contains a secret.
    pub message: String,
}

/// What to do after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    RetryAfter(Duration),
    GiveUp,
}

impl RetryPolicy {
    /// The nominal delay before retry number `retry` (1 = after the first failure),
    /// scaled by `jitter` ∈ [0, 1] into [half, all] of it.
    pub fn backoff(&self, retry: u32, jitter: f64) -> Duration {
        let exp = retry.saturating_sub(1).min(30);
        let nominal = self.base.saturating_mul(1u32 << exp).min(self.max_delay);
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        nominal / 2 + nominal.mul_f64(jitter / 2.0)
    }

    /// The decision after `attempts` attempts (the failed one included).
    pub fn after_failure(&self, attempts: u32, failure: &Failure, jitter: f64) -> Next {
        if !failure.retryable || attempts >= self.max_attempts {
            return Next::GiveUp;
        }
        let backoff = self.backoff(attempts, jitter);
        let wait = match failure.retry_after {
            // Honour the peer's wish, within reason.
            Some(after) => after.min(self.max_delay).max(backoff / 2),
            None => backoff,
        };
        Next::RetryAfter(wait)
    }
}

/// Whether an HTTP status is worth retrying: request timeout, too early, too many
/// requests and server errors. Other 4xx mean the request itself is wrong; redirects
/// are not followed (a signed body must not wander to another host).
pub fn http_status_retryable(status: u16) -> bool {
    matches!(status, 408 | 425 | 429) || (500..600).contains(&status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            base: Duration::from_secs(10),
            max_delay: Duration::from_secs(60),
        }
    }

    fn failure(retryable: bool) -> Failure {
        Failure {
            retryable,
            retry_after: None,
            message: "x".into(),
        }
    }

    #[test]
    fn backoff_doubles_with_equal_jitter_and_caps() {
        let p = policy();
        for (retry, nominal) in [(1, 10), (2, 20), (3, 40), (4, 60), (30, 60), (u32::MAX, 60)] {
            let nominal = Duration::from_secs(nominal);
            assert_eq!(p.backoff(retry, 0.0), nominal / 2, "retry {retry}");
            assert_eq!(p.backoff(retry, 1.0), nominal, "retry {retry}");
            let mid = p.backoff(retry, 0.5);
            assert!(mid > nominal / 2 && mid < nominal);
        }
        assert_eq!(p.backoff(1, f64::NAN), Duration::from_secs(5));
        assert_eq!(p.backoff(1, 7.0), Duration::from_secs(10));
    }

    #[test]
    fn gives_up_when_not_retryable_or_out_of_attempts() {
        let p = policy();
        assert_eq!(
            p.after_failure(1, &failure(true), 0.0),
            Next::RetryAfter(Duration::from_secs(5))
        );
        assert_eq!(
            p.after_failure(3, &failure(true), 1.0),
            Next::RetryAfter(Duration::from_secs(40))
        );
        assert_eq!(p.after_failure(4, &failure(true), 0.0), Next::GiveUp);
        assert_eq!(p.after_failure(1, &failure(false), 0.0), Next::GiveUp);
    }

    #[test]
    fn retry_after_is_honoured_within_bounds() {
        let p = policy();
        let mut f = failure(true);
        f.retry_after = Some(Duration::from_secs(30));
        assert_eq!(
            p.after_failure(1, &f, 0.0),
            Next::RetryAfter(Duration::from_secs(30))
        );
        f.retry_after = Some(Duration::from_secs(86_400));
        assert_eq!(
            p.after_failure(1, &f, 0.0),
            Next::RetryAfter(Duration::from_secs(60))
        );
        f.retry_after = Some(Duration::ZERO);
        assert_eq!(
            p.after_failure(3, &f, 1.0),
            Next::RetryAfter(Duration::from_secs(20))
        );
    }

    #[test]
    fn retryable_statuses() {
        for s in [408, 425, 429, 500, 502, 503, 504, 599] {
            assert!(http_status_retryable(s), "{s}");
        }
        for s in [200, 301, 302, 400, 401, 403, 404, 410, 413, 422] {
            assert!(!http_status_retryable(s), "{s}");
        }
    }
}
