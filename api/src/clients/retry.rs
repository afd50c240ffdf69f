//! When to try an outside API again: exponential backoff with jitter, the
//! provider's `Retry-After` honoured, a bounded number of attempts and one
//! deadline for the whole call, waits included.
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use http::{HeaderMap, header::RETRY_AFTER};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The wait after the first failure; each further wait doubles, up to
    /// `max_delay`. Each is then jittered to between half and all of it, so
    /// callers that failed together do not come back together.
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// The whole call ends within this, however the attempts go.
    pub budget: Duration,
}

/// One call's retries.
#[derive(Debug)]
pub struct Retries {
    policy: RetryPolicy,
    failures: u32,
    deadline: Instant,
}

impl Retries {
    pub fn start(policy: RetryPolicy) -> Self {
        Self::start_at(policy, Instant::now())
    }

    fn start_at(policy: RetryPolicy, now: Instant) -> Self {
        Self {
            policy,
            failures: 0,
            deadline: now + policy.budget,
        }
    }

    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Time left before the deadline.
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Attempts made and failed so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Counts a failed attempt and says how long to wait before the next
    /// one: at least `retry_after` when the provider asked for it, else the
    /// backoff. `None` when no attempt is left, or the wait would end past
    /// the deadline.
    pub fn after_failure(&mut self, retry_after: Option<Duration>) -> Option<Duration> {
        self.after_failure_at(retry_after, Instant::now())
    }

    fn after_failure_at(
        &mut self,
        retry_after: Option<Duration>,
        now: Instant,
    ) -> Option<Duration> {
        self.failures += 1;
        if self.failures >= self.policy.attempts {
            return None;
        }
        let doublings = (self.failures - 1).min(16);
        let backoff = self
            .policy
            .first_delay
            .saturating_mul(1 << doublings)
            .min(self.policy.max_delay);
        let delay = retry_after.unwrap_or_else(|| backoff.mul_f64(0.5 + fastrand::f64() / 2.0));
        (now + delay < self.deadline).then_some(delay)
    }
}

/// `Retry-After` in seconds or as an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((at - Utc::now()).to_std().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    const POLICY: RetryPolicy = RetryPolicy {
        attempts: 5,
        first_delay: Duration::from_millis(100),
        max_delay: Duration::from_millis(300),
        budget: Duration::from_secs(10),
    };

    #[test]
    fn waits_double_up_to_the_cap_with_jitter_and_stop_after_the_last_attempt() {
        for _ in 0..100 {
            let now = Instant::now();
            let mut retries = Retries::start_at(POLICY, now);
            let waits: Vec<Duration> = (0..4)
                .map(|_| retries.after_failure_at(None, now).expect("attempts left"))
                .collect();
            for (wait, full) in waits.iter().zip([100, 200, 300, 300]) {
                let full = Duration::from_millis(full);
                assert!(*wait >= full / 2 && *wait <= full, "{waits:?}");
            }
            assert_eq!(retries.after_failure_at(None, now), None);
            assert_eq!(retries.failures(), 5);
        }
    }

    #[test]
    fn retry_after_is_honoured_unless_it_ends_past_the_deadline() {
        let now = Instant::now();
        let mut retries = Retries::start_at(POLICY, now);
        let asked = Some(Duration::from_secs(2));
        assert_eq!(retries.after_failure_at(asked, now), asked);
        assert_eq!(
            retries.after_failure_at(Some(Duration::from_secs(11)), now),
            None
        );
        let late = now + Duration::from_millis(9_950);
        let mut retries = Retries::start_at(POLICY, now);
        assert_eq!(retries.after_failure_at(None, late), None);
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let headers = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
            h
        };
        assert_eq!(retry_after(&headers("1")), Some(Duration::from_secs(1)));
        let soon = (Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
        let wait = retry_after(&headers(&soon)).unwrap();
        assert!(wait > Duration::from_secs(25) && wait <= Duration::from_secs(30));
        let past = "Wed, 21 Oct 2015 07:28:00 GMT";
        assert_eq!(retry_after(&headers(past)), Some(Duration::ZERO));
        assert_eq!(retry_after(&headers("soon")), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }
}
