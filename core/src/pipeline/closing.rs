//! Waiting for the worker: a flush (everything queued so far delivered),
//! a close (nothing more accepted, what is queued delivered within a
//! timeout), and giving up on a worker that misses the close's deadline.

use std::future::Future;
use std::time::{Duration, Instant};

use futures_channel::oneshot;

use crate::error::Error;
use crate::pipeline::accounting::answer;
use crate::pipeline::batching::spill;
use crate::pipeline::shared::Pipeline;
use crate::pipeline::state::Phase;
use crate::rt::clock;

impl Pipeline {
    /// Resolves when everything queued before the call was delivered, or
    /// with the error of the batch that could not be.
    pub(crate) fn flush(&self) -> impl Future<Output = Result<(), Error>> {
        self.reporter.release_if_on_its_thread();
        let (tx, rx) = oneshot::channel();
        {
            let mut st = self.lock();
            st.flushes += 1;
            let target = st.queue.entered();
            if st.flushed(target) {
                let _ = tx.send(Ok(()));
            } else if st.is_done() {
                let _ = tx.send(st.close_outcome());
            } else {
                st.drain_to = st.drain_to.max(target);
                st.accounts.wait(target, tx);
                st.worker_idle = false;
            }
        }
        self.wake_worker();
        async move { rx.await.unwrap_or(Err(Error::Closed)) }
    }

    /// Stops accepting records, delivers what is queued within `timeout`
    /// (the first close's, if one is under way), and stops the worker. The
    /// worker goes on if the future is dropped.
    pub(crate) fn close(&self, timeout: Duration) -> impl Future<Output = Result<(), Error>> + '_ {
        self.reporter.release_if_on_its_thread();
        let (tx, rx) = oneshot::channel();
        let deadline = {
            let mut st = self.lock();
            // The worker stops a little before the caller stops waiting, so
            // that its last outcome is recorded within the timeout.
            let timeout = clock::clamp(timeout);
            let grace = (timeout / 10).min(Duration::from_millis(100));
            let worker_deadline = match st.phase {
                Phase::Running => {
                    let deadline = clock::after(timeout - grace);
                    st.phase = Phase::Closing { deadline };
                    deadline
                }
                Phase::Closing { deadline } => deadline,
                Phase::Done | Phase::Abandoned => Instant::now(),
            };
            if st.is_done() {
                let _ = tx.send(());
            } else {
                st.closers.push(tx);
            }
            worker_deadline + grace
        };
        // Callers waiting for room give up: nothing more is accepted.
        self.room.notify_all();
        self.wake_worker();
        async move {
            let left = deadline.saturating_duration_since(Instant::now());
            if clock::timeout(left, rx).await.is_none() {
                self.abandon();
            }
            self.lock().close_outcome()
        }
    }

    /// The worker did not finish by the deadline (a transport that blocks
    /// the thread polling it): spool what it has not taken, count the rest
    /// as lost, and ignore its late results.
    fn abandon(&self) {
        let mut st = self.lock();
        if st.is_done() {
            return;
        }
        st.phase = Phase::Abandoned;
        let pending = st.queue.entered() - st.accounts.resolved;
        let queued = st.queue.take_all();
        st.accounts.resolved = st.queue.entered();
        let replies = st.accounts.take_all();
        // With a journal, every pending record is in it (it stays, for the
        // next start); without one, what the worker has not taken is
        // written out.
        let in_journal = st.journal.is_some();
        drop(st);
        let spooled = if in_journal {
            pending
        } else {
            spill(self, Vec::new(), queued)
        };
        let lost = pending - spooled;
        let mut st = self.lock();
        st.accounts.spooled += spooled;
        st.accounts.lost += lost;
        st.lost_at_close += lost;
        let outcome = st.close_outcome();
        drop(st);
        answer(replies, &outcome);
        if let Err(e) = outcome {
            self.report(e);
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        !self.lock().is_running()
    }
}
