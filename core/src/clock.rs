//! Durations from configuration and from servers, made safe to add to an
//! `Instant`: `Duration::MAX` or a `Retry-After` of 2^64 seconds must not
//! overflow, panic, or park a thread for centuries.

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
