//! What became of the records (the counters behind [`Stats`]) and the
//! flushes waiting for them.

use futures_channel::oneshot;

use crate::error::Error;
use crate::pipeline::stats::Stats;

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
    flushes: Vec<Flush>,
    /// Records given up while flushes wait (refused by the service): the
    /// first record's sequence number and the error, to fail the flushes
    /// that covered them.
    refusals: Vec<(u64, Error)>,
}

struct Flush {
    target: u64,
    reply: Reply,
    /// Refusals noted before this flush began.
    refusals_before: usize,
}

impl Accounts {
    /// A flush waiting for every record below `target`.
    pub(crate) fn wait(&mut self, target: u64, reply: Reply) {
        self.flushes.push(Flush {
            target,
            reply,
            refusals_before: self.refusals.len(),
        });
    }

    /// Records from `first` on were refused and given up (`error`).
    pub(crate) fn note_refusal(&mut self, first: u64, error: Error) {
        if !self.flushes.is_empty() {
            self.refusals.push((first, error));
        }
    }

    /// Takes the flushes whose records are all resolved (every record below
    /// `watermark` is), with their outcome: the refusal of a record they
    /// covered, if any.
    pub(crate) fn finished(&mut self, watermark: u64) -> Vec<(Reply, Result<(), Error>)> {
        let (done, waiting): (Vec<Flush>, _) = std::mem::take(&mut self.flushes)
            .into_iter()
            .partition(|f| f.target <= watermark);
        self.flushes = waiting;
        let done = done
            .into_iter()
            .map(|f| {
                let refused = self.refusals[f.refusals_before..]
                    .iter()
                    .find(|(first, _)| *first < f.target);
                (f.reply, refused.map_or(Ok(()), |(_, e)| Err(e.clone())))
            })
            .collect();
        if self.flushes.is_empty() {
            self.refusals.clear();
        }
        done
    }

    /// Takes every waiting flush.
    pub(crate) fn take_all(&mut self) -> Vec<Reply> {
        self.refusals.clear();
        std::mem::take(&mut self.flushes)
            .into_iter()
            .map(|f| f.reply)
            .collect()
    }

    pub(crate) fn stats(&self, entered: u64, retried: u64, invalid: u64, unreported: u64) -> Stats {
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
            unreported,
            recovered: 0,
            torn: 0,
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
        for (reply, outcome) in accounts.finished(3) {
            let _ = reply.send(outcome);
        }
        assert!(matches!(early_rx.try_recv(), Ok(Some(Ok(())))));
        assert!(matches!(late_rx.try_recv(), Ok(None)));
        answer(accounts.take_all(), &Err(Error::Closed));
        assert!(matches!(late_rx.try_recv(), Ok(Some(Err(Error::Closed)))));
    }

    #[test]
    fn a_flush_fails_with_the_refusal_of_a_record_it_covered() {
        let mut accounts = Accounts::default();
        let (before, mut before_rx) = oneshot::channel();
        accounts.wait(5, before);
        accounts.note_refusal(7, Error::Closed); // after its records: not its concern
        let (after, mut after_rx) = oneshot::channel();
        accounts.wait(10, after);
        accounts.note_refusal(3, Error::InvalidData("refused".into()));
        for (reply, outcome) in accounts.finished(10) {
            let _ = reply.send(outcome);
        }
        assert!(matches!(
            before_rx.try_recv(),
            Ok(Some(Err(Error::InvalidData(_))))
        ));
        assert!(matches!(
            after_rx.try_recv(),
            Ok(Some(Err(Error::InvalidData(_))))
        ));
        assert!(accounts.refusals.is_empty());
        let (late, mut late_rx) = oneshot::channel();
        accounts.wait(12, late);
        for (reply, outcome) in accounts.finished(12) {
            let _ = reply.send(outcome);
        }
        assert!(matches!(late_rx.try_recv(), Ok(Some(Ok(())))));
    }
}
