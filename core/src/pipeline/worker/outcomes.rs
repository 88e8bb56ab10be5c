//! What becomes of a batch that came back: delivered, halved after a
//! refusal, given up (one record the service refuses), or held after every
//! retry failed; and, at shutdown, everything left spooled or counted lost.

use std::sync::{Arc, MutexGuard};

use super::{Next, Worker};
use crate::error::Error;
use crate::pipeline::accounting::{answer, Accounts};
use crate::pipeline::batching::{mark_batch, recycle, spill};
use crate::pipeline::job::{verdict, Job, Origin, Verdict};
use crate::pipeline::state::{Health, Phase, State};
use crate::transport::batch::Batch;
use crate::transport::error::TransportError;

impl<'a> Worker<'a> {
    /// Records the outcome of a batch that came back.
    pub(super) fn settle(&mut self, job: Job, result: Result<(), TransportError>) {
        let n = job.len() as u64;
        let error = match result {
            Ok(()) => return self.resolved(job, |a| a.sent += n),
            Err(error) => error,
        };
        let mut st = self.p.lock();
        if st.phase == Phase::Abandoned {
            return;
        }
        st.accounts.failed += n;
        drop(st);
        match verdict(job, error) {
            Verdict::Split(a, b) => {
                // Their keys go into the journal before they are sent.
                for half in [&a, &b] {
                    if let Some(first) = half.seq() {
                        mark_batch(self.p, first, &half.batch);
                    }
                }
                // The halves go back where the batch came from, first in line.
                let lane = match (&a.origin, self.held.front()) {
                    (Origin::Spooled(_), _) => &mut self.restoring,
                    (_, Some(h)) if h.seq() > a.seq() => &mut self.held,
                    _ => &mut self.ready,
                };
                lane.push_front(b);
                lane.push_front(a);
            }
            Verdict::GiveUp(job, cause) => {
                let error = Error::Rejected {
                    records: n as usize,
                    cause,
                };
                let first = job.first();
                self.resolved(job, |a| {
                    a.lost += n;
                    if let Some(first) = first {
                        a.note_refusal(first, error.clone());
                    }
                });
                self.p.report(error);
            }
            Verdict::Hold(job, cause) => self.hold(job, cause),
        }
    }

    /// A batch is done with (sent, or given up): count it with `count`, hand
    /// its buffers back and, for a spooled one, delete its file once all its
    /// parts are done.
    fn resolved(&mut self, job: Job, count: impl FnOnce(&mut Accounts)) {
        let mut st = self.p.lock();
        if st.phase == Phase::Abandoned {
            return;
        }
        count(&mut st.accounts);
        let n = job.len() as u64;
        match &job.origin {
            Origin::Live { .. } => st.accounts.resolved += n,
            Origin::Parked { .. } | Origin::Spooled(_) => st.accounts.restored += n,
        }
        drop(st);
        if let Origin::Spooled(file) = &job.origin {
            file.parts.set(file.parts.get() - 1);
            if file.parts.get() == 0 && !file.keep.get() {
                self.delete_spooled(&file.path);
            }
        }
        if let Ok(batch) = Arc::try_unwrap(job.batch) {
            recycle(self.p, batch.into_records());
        }
    }

    /// A batch failed every retry: keep it, first in line, and fail the
    /// flushes waiting for it. During shutdown, the worker then spools what
    /// is left and stops.
    fn hold(&mut self, job: Job, cause: TransportError) {
        if let Origin::Spooled(file) = &job.origin {
            // The file stays; it is read again at the next interval.
            file.keep.set(true);
            self.restoring.clear();
            self.spool_files.clear();
            self.spool_paused = Some(self.p.lock().flushes);
            return self.p.report(Error::Undelivered {
                records: job.len(),
                cause,
            });
        }
        // Parked records are counted spooled, not pending.
        let parked = if job.is_parked() { job.len() } else { 0 };
        let at = self.held.partition_point(|h| h.seq() < job.seq());
        self.held.insert(at, job);
        let mut st = self.p.lock();
        if !st.is_running() {
            self.giving_up = Some(cause);
            return;
        }
        // No retry before the next interval or flush.
        st.drain_to = 0;
        st.health = Health::Failing;
        let error = Error::Undelivered {
            records: (st.queue.entered() - st.accounts.resolved) as usize + parked,
            cause,
        };
        let replies = st.accounts.take_all();
        drop(st);
        self.p.report(error.clone());
        answer(replies, &Err(error));
    }

    /// Shutdown ran out of time (`cause` is `None`) or a batch failed for
    /// good: spool everything left, in order (or count it lost), and stop.
    pub(super) fn give_up(
        &mut self,
        mut st: MutexGuard<'a, State>,
        cause: Option<TransportError>,
    ) -> Next {
        let mut jobs: Vec<Job> = self.window.cancel();
        jobs.extend(self.held.drain(..));
        jobs.extend(self.ready.drain(..));
        // Parked records are in the journal (counted spooled already), spooled
        // batches still in their files.
        let parked = st.parked_from.is_some() || jobs.iter().any(Job::is_parked);
        jobs.retain(|job| job.first().is_some());
        jobs.sort_by_key(Job::first);
        self.restoring.clear();
        let queued = st.queue.take_all();
        let records = jobs.iter().map(|j| j.len() as u64).sum::<u64>() + queued.len() as u64;
        // With a journal, they are on disk already, above its watermark,
        // with the keys of the batches they went out in: the next start
        // recovers them from it. Without one, they are written out now.
        let in_journal = st.journal.is_some() && st.phase != Phase::Abandoned;
        st.leftovers_in_journal = in_journal && (records > 0 || parked);
        drop(st);
        let spooled = if in_journal {
            records
        } else {
            let batches = jobs.into_iter().map(unshare).collect();
            spill(self.p, batches, queued)
        };
        let mut st = self.p.lock();
        if st.phase != Phase::Abandoned {
            st.accounts.spooled += spooled;
            st.accounts.lost += records - spooled;
            st.accounts.resolved += records;
            st.lost_at_close += records - spooled;
            if cause.is_some() {
                st.lost_cause = cause;
            }
        }
        self.finish(st);
        Next::Stop
    }
}

/// A job's batch, no longer shared with a delivery.
pub(super) fn unshare(job: Job) -> Batch {
    Arc::try_unwrap(job.batch).unwrap_or_else(|shared| (*shared).clone())
}
