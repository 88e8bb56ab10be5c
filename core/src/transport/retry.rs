//! Retry policy (exponential backoff with jitter) and the SDK's one retry
//! loop, shared by the worker's deliveries and the caller's `ingest_raw` and
//! `flow_async`.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use crate::rt::clock;
use crate::transport::error::TransportError;

/// How failed sends are retried.
///
/// The delay before retry `n` (0-based) is `initial_delay * multiplier^n`,
/// capped at `max_delay`; with `jitter`, a random point in the upper half of
/// that delay, so that many clients do not retry in lockstep. A server's
/// hint of when to try again replaces the computed delay, capped at
/// `max_delay` and at [`RetryPolicy::MAX_SERVER_HINT`] whatever `max_delay`
/// is: a server cannot hold a flush for longer by asking.
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
    /// The longest wait a server's hint ([`TransportError::retry_after`])
    /// can ask for.
    pub const MAX_SERVER_HINT: Duration = Duration::from_secs(60);

    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// The wait before retry number `retry` (0-based), given the server's
    /// hint; never more than `max_delay`, nor than a day whatever the
    /// settings say, nor than [`MAX_SERVER_HINT`](Self::MAX_SERVER_HINT)
    /// for a hint.
    pub fn delay(&self, retry: u32, hint: Option<Duration>) -> Duration {
        let cap = clock::clamp(self.max_delay);
        if let Some(hint) = hint {
            return hint.min(cap).min(Self::MAX_SERVER_HINT);
        }
        let exp = self.multiplier.max(1.0).powi(retry.min(64) as i32);
        let base = clock::clamp(self.initial_delay).as_secs_f64() * exp;
        let capped = base.min(cap.as_secs_f64());
        let secs = if self.jitter {
            capped * (0.5 + fastrand::f64() * 0.5)
        } else {
            capped
        };
        // `capped` is finite and at most a day: the conversion cannot panic.
        Duration::from_secs_f64(secs)
    }
}

/// Runs `attempt` until it succeeds, fails for good (not retryable), or the
/// policy's retries run out; `on_retry` hears of each failure that is retried.
///
/// `deadline` is asked after each failure and while waiting: once it names
/// an instant (the client is shutting down), each remaining wait is cut so
/// that every retry left fits before it, and no attempt starts after it.
/// Whoever sets it must poll the future again (the worker polls every
/// delivery after each change).
pub(crate) async fn retrying<T, F, Fut>(
    policy: &RetryPolicy,
    deadline: &dyn Fn() -> Option<Instant>,
    mut attempt: F,
    mut on_retry: impl FnMut(&TransportError),
) -> Result<T, TransportError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, TransportError>>,
{
    let mut retry = 0;
    loop {
        let error = match attempt().await {
            Ok(value) => return Ok(value),
            Err(e) => e,
        };
        let past_deadline = deadline().is_some_and(|d| Instant::now() >= d);
        if !error.is_retryable() || retry >= policy.max_retries || past_deadline {
            return Err(error);
        }
        on_retry(&error);
        let left = policy.max_retries - retry;
        let delay = policy.delay(retry, error.retry_after());
        let until = clock::after(delay);
        let mut wait = futures_timer::Delay::new(delay);
        retry += 1;
        let mut hurried = false;
        std::future::poll_fn(|cx| {
            if let (false, Some(deadline)) = (hurried, deadline()) {
                // Shutdown: the retries left share the time left.
                hurried = true;
                let now = Instant::now();
                let share = deadline.saturating_duration_since(now) / (left + 1);
                if share < until.saturating_duration_since(now) {
                    wait.reset(share);
                }
            }
            Pin::new(&mut wait).poll(cx)
        })
        .await;
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

    #[test]
    fn endless_settings_and_hints_wait_a_day_at_most() {
        let p = RetryPolicy {
            initial_delay: Duration::MAX,
            max_delay: Duration::MAX,
            multiplier: f64::MAX,
            ..RetryPolicy::default()
        };
        assert!(p.delay(63, None) <= clock::LONGEST);
        // A server asking for a year gets a minute.
        assert_eq!(
            p.delay(0, Some(Duration::MAX)),
            RetryPolicy::MAX_SERVER_HINT
        );
    }

    fn run<T>(f: impl Future<Output = T>) -> T {
        crate::rt::block_on::block_on(f)
    }

    fn fast() -> RetryPolicy {
        RetryPolicy {
            initial_delay: Duration::from_millis(1),
            jitter: false,
            ..RetryPolicy::default()
        }
    }

    #[test]
    fn retries_what_is_retryable_as_many_times_as_allowed() {
        let mut calls = 0;
        let mut heard = 0;
        let out: Result<(), _> = run(retrying(
            &fast(),
            &|| None,
            || {
                calls += 1;
                async { Err(TransportError::retryable("down")) }
            },
            |_| heard += 1,
        ));
        assert_eq!(out.unwrap_err().message(), "down");
        assert_eq!((calls, heard), (4, 3));

        let mut calls = 0;
        let out: Result<(), _> = run(retrying(
            &fast(),
            &|| None,
            || {
                calls += 1;
                async { Err(TransportError::permanent("no")) }
            },
            |_| (),
        ));
        assert!(out.is_err());
        assert_eq!(calls, 1, "a permanent failure is not retried");
    }

    #[test]
    fn a_deadline_shares_the_time_left_among_the_retries_left() {
        let slow = RetryPolicy {
            initial_delay: Duration::from_secs(3600),
            ..fast()
        };
        let deadline = std::time::Instant::now() + Duration::from_millis(300);
        let mut calls = 0;
        // Without the deadline this would wait hours.
        let out: Result<(), _> = run(retrying(
            &slow,
            &|| Some(deadline),
            || {
                calls += 1;
                async { Err(TransportError::retryable("reset")) }
            },
            |_| (),
        ));
        assert!(out.is_err());
        assert!(calls >= 2, "retries go on, sooner: {calls}");
        assert!(calls <= 4, "no more than the policy allows: {calls}");

        let past = std::time::Instant::now();
        let mut calls = 0;
        let _ = run(retrying(
            &slow,
            &|| Some(past),
            || {
                calls += 1;
                async { Err::<(), _>(TransportError::retryable("reset")) }
            },
            |_| (),
        ));
        assert_eq!(calls, 1, "no attempt starts after the deadline");
    }
}
