//! When a failed follow-up is tried again: soon at first, then less often,
//! never more than a minute after the attempt before.
use std::time::Duration;

/// The wait after the first failed attempt (before jitter).
const FIRST: Duration = Duration::from_secs(2);
/// The longest wait (before jitter). Below a minute by the worker's poll
/// interval and more, so attempts are never more than 60 s apart.
const MAX: Duration = Duration::from_secs(50);

/// How long after the start of failed attempt number `attempt` (from 1) the
/// next one is due: 2 s, doubling, at most 50 s, each jittered to between
/// half and all of it (jobs that failed together do not return together).
pub fn delay(attempt: i32) -> Duration {
    full(attempt).mul_f64(0.5 + fastrand::f64() / 2.0)
}

fn full(attempt: i32) -> Duration {
    let doublings = attempt.saturating_sub(1).clamp(0, 16).unsigned_abs();
    FIRST.saturating_mul(1 << doublings).min(MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_retry_comes_within_5_s_and_none_later_than_60_s() {
        let fulls: Vec<u64> = (1..=8).map(|a| full(a).as_secs()).collect();
        assert_eq!(fulls, [2, 4, 8, 16, 32, 50, 50, 50]);
        for _ in 0..1000 {
            assert!(delay(1) >= Duration::from_secs(1) && delay(1) <= Duration::from_secs(2));
            let late = delay(fastrand::i32(1..i32::MAX));
            assert!(late >= Duration::from_secs(1) && late <= MAX);
        }
        assert_eq!(full(0), FIRST);
    }
}
