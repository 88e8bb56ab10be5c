//! Retry policy: exponential backoff with jitter.

use std::time::Duration;

/// How failed sends are retried.
///
/// The delay before retry `n` (0-based) is `initial_delay * multiplier^n`,
/// capped at `max_delay`; with `jitter`, a random point in the upper half of
/// that delay, so that many clients do not retry in lockstep. A server's
/// `Retry-After` hint replaces the computed delay (still capped).
///
/// ```
/// use std::time::Duration;
/// use timber_core::RetryPolicy;
/// let p = RetryPolicy { jitter: false, ..RetryPolicy::default() };
/// assert_eq!(p.max_retries, 3);
/// assert_eq!(p.delay(0, None), Duration::from_millis(1_000));
/// assert_eq!(p.delay(1, None), Duration::from_millis(2_000));
/// assert_eq!(p.delay(9, None), Duration::from_millis(30_000));
/// assert_eq!(p.delay(0, Some(Duration::from_secs(5))), Duration::from_secs(5));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Delay before the first retry.
    pub initial_delay: Duration,
    /// Growth factor of the delay.
    pub multiplier: f64,
    /// Cap of any single delay.
    pub max_delay: Duration,
    /// Randomize each delay within its upper half.
    pub jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            initial_delay: Duration::from_millis(1_000),
            multiplier: 2.0,
            max_delay: Duration::from_millis(30_000),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// The wait before retry number `retry` (0-based), given the server's hint.
    pub fn delay(&self, retry: u32, hint: Option<Duration>) -> Duration {
        if let Some(hint) = hint {
            return hint.min(self.max_delay);
        }
        let exp = self.multiplier.max(1.0).powi(retry.min(64) as i32);
        let base = self.initial_delay.as_secs_f64() * exp;
        let capped = base.min(self.max_delay.as_secs_f64());
        let secs = if self.jitter {
            capped * (0.5 + fastrand::f64() * 0.5)
        } else {
            capped
        };
        Duration::from_secs_f64(secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_in_the_upper_half_and_under_the_cap() {
        let p = RetryPolicy::default();
        for retry in 0..10 {
            let full = RetryPolicy {
                jitter: false,
                ..p.clone()
            }
            .delay(retry, None);
            for _ in 0..50 {
                let d = p.delay(retry, None);
                assert!(d <= full && d >= full / 2, "{d:?} vs {full:?}");
            }
        }
        assert_eq!(p.delay(0, Some(Duration::from_secs(600))), p.max_delay);
    }
}
