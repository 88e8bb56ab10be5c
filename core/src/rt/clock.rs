//! Durations from configuration and from servers, made safe to add to an
//! `Instant`: `Duration::MAX` or a server's hint of 2^64 seconds must not
//! overflow, panic, or park a thread for centuries.

use std::future::Future;
use std::pin::pin;
use std::task::Poll;
use std::time::{Duration, Instant};

/// The longest wait the SDK ever takes in one go: longer settings and
/// server hints are cut to this.
pub(crate) const LONGEST: Duration = Duration::from_secs(24 * 60 * 60);

/// `d`, at most [`LONGEST`].
pub(crate) fn clamp(d: Duration) -> Duration {
    d.min(LONGEST)
}

/// The instant `d` from now (`d` clamped).
pub(crate) fn after(d: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(clamp(d)).unwrap_or(now)
}

/// `future`'s output, or `None` if `limit` (clamped) passes first.
pub(crate) async fn timeout<F: Future>(limit: Duration, future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut timer = pin!(futures_timer::Delay::new(clamp(limit)));
    std::future::poll_fn(|cx| {
        if let Poll::Ready(out) = future.as_mut().poll(cx) {
            return Poll::Ready(Some(out));
        }
        timer.as_mut().poll(cx).map(|()| None)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_durations_are_cut_not_overflowed() {
        assert_eq!(clamp(Duration::MAX), LONGEST);
        assert!(after(Duration::MAX) <= Instant::now() + LONGEST);
        assert!(after(Duration::ZERO) <= Instant::now());
    }
}
