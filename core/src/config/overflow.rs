//! [`OverflowPolicy`]: what happens to a record at the queue's bound.

use std::time::Duration;

/// What happens when a record arrives and the queue is at its bound.
///
/// Which suits which program:
/// - [`Block`](Self::Block) (the default): nothing is lost to a burst that
///   the service can absorb, however slowly it answers. A caller that finds
///   the queue full waits for the worker to take the next batch, for as
///   long as the queue keeps moving; the queue drains at the network's pace
///   (over a million records a second to a nearby service, 16,000 a second
///   to one answering each request in 250 ms). It gives up when the queue
///   has not moved for `max_wait` (1 s by default), or for twice the last
///   delivery's round trip if that is longer (up to 10 s). The wait is only
///   ever for room, never on the SDK's own threads, and never while
///   deliveries are failing: when the service is down, records are dropped
///   at once rather than slow the program down; when it hangs, one caller
///   waits once in vain, and the rest drop until the queue moves. With a
///   spool ([`ClientBuilder::spool`](crate::ClientBuilder::spool)), the
///   overflow goes to disk instead of being dropped: when deliveries fail
///   or make no progress, the worker moves the queue to the spool, and the
///   caller waits (up to `max_wait`) for that room.
/// - [`DropNewest`](Self::DropNewest): no log call ever waits; a burst
///   beyond the queue loses its newest records. For latency-critical code
///   (async executors serving requests with tight budgets) that prefers
///   losing logs to ever pausing.
/// - [`DropOldest`](Self::DropOldest): as `DropNewest`, but keeps the most
///   recent records, for programs where the latest state matters most.
/// - [`Spool`](Self::Spool): the queue moves to disk instead of being
///   dropped, for long outages of the service; needs
///   [`ClientBuilder::spool`](crate::ClientBuilder::spool).
///
/// Every record dropped is counted (`Stats::dropped`) and reported: once
/// when a burst of drops begins ([`Error::QueueFull`](crate::Error::QueueFull)) and once when it
/// ends, with its total ([`Error::Dropped`](crate::Error::Dropped)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OverflowPolicy {
    /// Wait for room while deliveries make progress, then drop the new
    /// record (counted as dropped).
    Block {
        /// Longest wait without the queue moving (cut to a day); a slow
        /// service's round trips lengthen it (twice the last, up to 10 s).
        max_wait: Duration,
    },
    /// Refuse the new record (counted as dropped).
    DropNewest,
    /// Discard the oldest queued record to make room (counted as dropped).
    DropOldest,
    /// Refuse the new record (counted as dropped) and have the worker move
    /// the queue to the on-disk spool, making room again while the service
    /// is unreachable. Needs [`ClientBuilder::spool`](crate::ClientBuilder::spool).
    Spool,
}

impl Default for OverflowPolicy {
    fn default() -> Self {
        OverflowPolicy::Block {
            max_wait: Duration::from_secs(1),
        }
    }
}
