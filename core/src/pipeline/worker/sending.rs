//! What the worker sends, and when: spooled batches first, then a held
//! batch (alone), then batches formed earlier, then records parked in the
//! journal, then new ones from the queue.

use std::sync::MutexGuard;
use std::time::Instant;

use super::Worker;
use crate::error::Error;
use crate::pipeline::batching::{form_batch, mark_batch};
use crate::pipeline::job::Job;
use crate::pipeline::queue::Records;
use crate::pipeline::state::{Health, State};
use crate::rt::clock;

/// Records taken from the queue for one batch.
pub(super) struct Taken {
    first: u64,
    records: Records,
    /// The overflow burst that the taking ended: records it dropped.
    burst_dropped: u64,
}

impl<'a> Worker<'a> {
    /// The interval (everything queued is due; the spool is listed again),
    /// a spill the overflow policy asked for, a flush that resumes a paused
    /// spool.
    pub(super) fn keep_time(
        &mut self,
        mut st: MutexGuard<'a, State>,
        now: Instant,
    ) -> MutexGuard<'a, State> {
        if now >= self.next_tick {
            self.next_tick = clock::after(self.p.config.flush_interval);
            st.drain_to = st.queue.entered();
            self.spool_paused = None;
            if st.is_running() && self.spool_files.is_empty() {
                self.list_spool();
            }
        }
        if std::mem::take(&mut st.spill_requested) {
            st = self.spill_queue(st);
        }
        if self.spool_paused.is_some_and(|at| st.flushes > at) {
            self.spool_paused = None;
            self.list_spool();
        }
        st
    }

    /// Sends what may go, in order: spooled batches, then a held batch
    /// (alone), then formed ones, then parked ones, then new ones from the
    /// queue. Returns whether anything went, and whether a full batch did.
    pub(super) fn send_due(
        &mut self,
        mut st: MutexGuard<'a, State>,
    ) -> (MutexGuard<'a, State>, bool, bool) {
        let draining = self.draining(&st);
        let (mut sent, mut sent_full) = (false, false);
        while self.window.has_room() {
            // Closing too: a spool's older records (an earlier run's, perhaps
            // recovered from its journal) go first, within the deadline;
            // what is left of them stays on disk.
            let spooled_first = self.held.is_empty();
            if let Some(job) = self.restoring.pop_front() {
                self.window.send(job, false);
            } else if spooled_first && (self.spool_paused.is_some() || !self.spool_files.is_empty())
            {
                let Some(path) = self
                    .spool_files
                    .pop_front()
                    .filter(|_| self.spool_paused.is_none())
                else {
                    break;
                };
                drop(st);
                self.restore(path);
                st = self.p.lock();
                continue;
            } else if !self.held.is_empty() {
                // The first try after a failure goes alone.
                if draining && self.window.is_empty() {
                    if let Some(job) = self.held.pop_front() {
                        self.window.send(job, true);
                        sent = true;
                    }
                }
                break;
            } else if let Some(job) = self.ready.pop_front() {
                self.window.send(job, false);
            } else if let Some(from) = st.parked_from {
                // Parked records go before anything newer in the queue.
                let to = st.queue.front_seq();
                let segment = st.journal.as_ref().and_then(|j| j.segment_holding(from));
                drop(st);
                self.unpark(from, to, segment);
                st = self.p.lock();
                continue;
            } else if let Some(taken) = self.take(&mut st, draining) {
                sent_full |= taken.records.len() >= self.p.config.batch_size;
                drop(st);
                self.form(taken);
                st = self.p.lock();
                continue;
            } else {
                break;
            }
            sent = true;
        }
        (st, sent, sent_full)
    }

    /// Forms the next batch while the window is full, so that it is ready
    /// when a slot frees.
    pub(super) fn form_ahead(&mut self, mut st: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        if self.ready.is_empty() && self.spool_files.is_empty() && self.spool_paused.is_none() {
            let draining = self.draining(&st);
            if let Some(taken) = self.take(&mut st, draining) {
                drop(st);
                self.form(taken);
                st = self.p.lock();
            }
        }
        st
    }

    /// Takes records for the next batch: when `batch_size` wait, or any
    /// when draining; nothing while a held batch or parked records wait
    /// (they go first).
    fn take(&self, st: &mut State, draining: bool) -> Option<Taken> {
        let config = &self.p.config;
        let due = st.queue.len() >= config.batch_size || (draining && !st.queue.is_empty());
        if !due || !self.held.is_empty() || st.parked_from.is_some() {
            return None;
        }
        let first = st.queue.front_seq();
        let records = st.queue.take(
            config.max_batch_records,
            config.max_batch_bytes,
            self.stamp_bytes,
        );
        st.worker_low = st.worker_low.min(first);
        st.round_trip = self.window.round_trip();
        if st.health == Health::Stalled {
            st.health = Health::Ok;
        }
        if st.room_waiters > 0 {
            self.p.room.notify_all();
        }
        Some(Taken {
            first,
            records,
            burst_dropped: st.queue.end_burst(),
        })
    }

    /// Forms taken records into the next batch, ready to go.
    fn form(&mut self, taken: Taken) {
        if taken.burst_dropped > 0 {
            self.p.report(Error::Dropped {
                records: taken.burst_dropped,
                capacity: self.p.config.queue_capacity,
            });
        }
        let batch = form_batch(self.p, taken.records);
        mark_batch(self.p, taken.first, &batch);
        self.ready.push_back(Job::live(batch, taken.first));
    }
}
