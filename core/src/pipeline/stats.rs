//! Counters of what the client did with the records it was given.

/// A snapshot of the client's counters.
///
/// Every record that passed validation is `accepted`, and at any moment
/// `accepted + restored == sent + pending + dropped + lost + spooled`
/// (without a spool, the last terms are zero).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Valid records offered to the queue.
    pub accepted: u64,
    /// Records the transport delivered.
    pub sent: u64,
    /// Records queued, in flight or held after a failure.
    pub pending: u64,
    /// Record sends repeated by the retry policy (a batch of 10 retried
    /// twice counts 20).
    pub retried: u64,
    /// Records in send attempts that failed for good (the records are kept,
    /// or counted in `lost`); a record can fail more than once.
    pub failed: u64,
    /// Records discarded at the queue bound by the overflow policy.
    pub dropped: u64,
    /// Accepted records given up: refused by the server as invalid, or
    /// undeliverable at shutdown.
    pub lost: u64,
    /// Records written to the on-disk spool.
    pub spooled: u64,
    /// Records read back from the spool and delivered.
    pub restored: u64,
    /// Calls refused before queueing: invalid input, or the client closed.
    pub invalid: u64,
    /// Errors of the worker not handed to `on_error`, because an earlier
    /// call of it was still running (blocked) and 256 errors waited for it.
    pub unreported: u64,
    /// Records a run that died left in the spool's journal, recovered when
    /// this client started (they are sent first, and counted in `restored`).
    pub recovered: u64,
    /// Journal segments of such runs that ended in a torn or damaged frame
    /// (a crash mid-write): what it held was skipped, never sent half.
    pub torn: u64,
}
