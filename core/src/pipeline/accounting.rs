//! What became of the records (the counters behind [`Stats`]) and the
//! flushes waiting for them.

use futures_channel::oneshot;

use crate::{Error, Stats};

/// Where a flush's outcome goes.
pub(crate) type Reply = oneshot::Sender<Result<(), Error>>;

#[derive(Default)]
pub(crate) struct Accounts {
    pub(crate) accepted: u64,
    pub(crate) sent: u64,
    pub(crate) failed: u64,
    pub(crate) dropped: u64,
    pub(crate) lost: u64,
    pub(crate) spooled: u64,
    pub(crate) restored: u64,
    /// Records of this process resolved for good: sent, dropped, lost or
    /// spooled. `entered - resolved` are pending.
    pub(crate) resolved: u64,
    /// Flushes waiting, each until every record below its target is resolved.
    flushes: Vec<(u64, Reply)>,
}

impl Accounts {
    /// A flush waiting for every record below `target`.
    pub(crate) fn wait(&mut self, target: u64, reply: Reply) {
        self.flushes.push((target, reply));
    }

    /// Takes the flushes whose records are all resolved: every record below
    /// `watermark` is.
    pub(crate) fn finished(&mut self, watermark: u64) -> Vec<Reply> {
        let (done, waiting) = std::mem::take(&mut self.flushes)
            .into_iter()
            .partition(|(target, _)| *target <= watermark);
        self.flushes = waiting;
        done.into_iter().map(|(_, reply)| reply).collect()
    }

    /// Takes every waiting flush.
    pub(crate) fn take_all(&mut self) -> Vec<Reply> {
        std::mem::take(&mut self.flushes)
            .into_iter()
            .map(|(_, reply)| reply)
            .collect()
    }

    pub(crate) fn stats(&self, entered: u64, retried: u64, invalid: u64) -> Stats {
        Stats {
            accepted: self.accepted,
            sent: self.sent,
            pending: entered - self.resolved,
            retried,
            failed: self.failed,
            dropped: self.dropped,
            lost: self.lost,
            spooled: self.spooled,
            restored: self.restored,
            invalid,
        }
    }
}

/// Sends each reply its outcome (outside every lock: a reply wakes a caller).
pub(crate) fn answer(replies: Vec<Reply>, outcome: &Result<(), Error>) {
    for reply in replies {
        let _ = reply.send(outcome.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flush_finishes_once_everything_below_its_target_is_resolved() {
        let mut accounts = Accounts::default();
        let (early, mut early_rx) = oneshot::channel();
        let (late, mut late_rx) = oneshot::channel();
        accounts.wait(3, early);
        accounts.wait(10, late);
        assert!(accounts.finished(2).is_empty());
        answer(accounts.finished(3), &Ok(()));
        assert!(matches!(early_rx.try_recv(), Ok(Some(Ok(())))));
        assert!(matches!(late_rx.try_recv(), Ok(None)));
        answer(accounts.take_all(), &Err(Error::Closed));
        assert!(matches!(late_rx.try_recv(), Ok(Some(Err(Error::Closed)))));
    }
}
