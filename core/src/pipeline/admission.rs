//! The callers' side of the queue: a record in, at the queue's bound the
//! overflow policy decides (drop the newest, drop the oldest, move the
//! queue to the spool, or wait a little for room while deliveries succeed),
//! and calls made for callers handed to the worker.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::config::overflow::OverflowPolicy;
use crate::error::Error;
use crate::pipeline::request::Request;
use crate::pipeline::shared::Pipeline;
use crate::pipeline::state::{Health, State};
use crate::record::buffers;
use crate::record::record::Record;
use crate::record::validate::{check_size, check_step};
use crate::rt::clock;
use crate::rt::threads::on_sdk_thread;

/// The longest a caller waits for the queue to move when the service's
/// round trips are slow (twice the last one, up to this).
const MAX_ADAPTIVE_WAIT: Duration = Duration::from_secs(10);

impl Pipeline {
    /// Queues a validated record (the caller counts a refusal). With
    /// `step`, assigns the flow's next step index under the queue lock, so
    /// queue order is step order and a refused record consumes no step.
    /// The record is taken from `record` once it is queued (it stays there
    /// when refused).
    pub(crate) fn push(&self, record: &mut Record, step: Option<&AtomicU32>) -> Result<(), Error> {
        let size = record.size();
        check_size(size, self.config.max_batch_bytes)?;
        let mut st = self.lock();
        if !st.queue.has_room_for(size) && st.is_running() {
            st = self.wait_for_room(st, size);
        }
        if !st.is_running() {
            return Err(Error::Closed);
        }
        let next_step = step.map(|counter| counter.load(Ordering::Relaxed));
        if let Some(next) = next_step {
            check_step(next)?;
        }
        st.accounts.accepted += 1;
        let mut burst_began = None;
        if !st.queue.has_room_for(size) {
            let first_of_burst = st.queue.note_drop();
            let full = Error::QueueFull {
                capacity: self.config.queue_capacity,
                dropped: st.queue.burst(),
            };
            burst_began = first_of_burst.then(|| full.clone());
            if self.config.overflow != OverflowPolicy::DropOldest {
                st.accounts.dropped += 1;
                let spill = self.config.overflow == OverflowPolicy::Spool && !st.spill_requested;
                st.spill_requested |= spill;
                drop(st);
                if spill {
                    self.wake_worker();
                }
                if let Some(e) = burst_began {
                    self.report(e);
                }
                return Err(full);
            }
            while !st.queue.has_room_for(size) && st.queue.pop_oldest().is_some() {
                st.accounts.dropped += 1;
                st.accounts.resolved += 1;
            }
        }
        if let Some(index) = next_step {
            record.set_step(index);
        }
        let unjournaled = match journal(&mut st, record) {
            Ok(given_up) => given_up,
            Err(full) => {
                st.accounts.dropped += 1;
                let first = !std::mem::replace(&mut st.spool_full, true);
                drop(st);
                if first {
                    self.report(full.clone());
                }
                return Err(full);
            }
        };
        if let (Some(counter), Some(index)) = (step, next_step) {
            counter.store(index + 1, Ordering::Relaxed);
        }
        st.queue.push(record.take(), size);
        buffers::restock(&mut st.spare);
        let wake = st.worker_idle && st.queue.len() >= self.config.batch_size;
        if wake {
            st.worker_idle = false;
        }
        drop(st);
        if wake {
            self.wake_worker();
        }
        if let Some(e) = burst_began {
            self.report(e);
        }
        if let Some(e) = unjournaled {
            self.report(e);
        }
        Ok(())
    }

    /// `OverflowPolicy::Block`: waits for room while deliveries make
    /// progress: at most `max_wait`, or twice the last delivery's round trip
    /// if longer (up to [`MAX_ADAPTIVE_WAIT`]), without the queue moving.
    /// Never on the SDK's own threads (a callback that logs).
    ///
    /// Without a spool: never once deliveries fail, and once a wait was in
    /// vain, not again until the queue moves (a program must not slow down
    /// because the service is down or hangs); the record is then dropped.
    /// With a spool, the overflow goes to disk instead: when deliveries fail
    /// or make no progress, the worker moves the queue to the spool and the
    /// caller waits (up to `max_wait`) for that room, not for the network.
    fn wait_for_room<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        size: usize,
    ) -> MutexGuard<'a, State> {
        let OverflowPolicy::Block { max_wait } = self.config.overflow else {
            return st;
        };
        if on_sdk_thread() {
            return st;
        }
        let to_disk = self.spool.is_some();
        let patience = |st: &State| max_wait.max((st.round_trip * 2).min(MAX_ADAPTIVE_WAIT));
        let mut until = clock::after(patience(&st));
        let mut front = st.queue.front_seq();
        let mut spilling = false;
        st.room_waiters += 1;
        while !st.queue.has_room_for(size) && st.is_running() {
            let now = Instant::now();
            let no_progress = st.queue.front_seq() == front && now >= until;
            if st.health != Health::Ok || no_progress {
                if !to_disk {
                    if st.health == Health::Ok {
                        st.health = Health::Stalled;
                    }
                    break;
                }
                if spilling && now >= until {
                    break; // the spool has no room either
                }
                if !spilling {
                    spilling = true;
                    until = clock::after(max_wait);
                    st.spill_requested = true;
                    st.worker_idle = false;
                    self.wake_worker();
                }
            } else if st.queue.front_seq() != front {
                // The queue moved: the service keeps up, wait on.
                front = st.queue.front_seq();
                until = clock::after(patience(&st));
            }
            // The worker may be idle, waiting for its interval.
            if std::mem::take(&mut st.worker_idle) {
                self.wake_worker();
            }
            st = self
                .room
                .wait_timeout(st, until.saturating_duration_since(now))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        st.room_waiters -= 1;
        st
    }

    /// Hands a call made for a caller to the worker; `Closed` once the
    /// client is closing.
    pub(crate) fn request(&self, request: Request) -> Result<(), Error> {
        let mut st = self.lock();
        if !st.is_running() {
            return Err(Error::Closed);
        }
        st.requests.push(request);
        st.worker_idle = false;
        drop(st);
        self.wake_worker();
        Ok(())
    }
}

/// Writes the record ahead into the spool's journal, if there is one. A
/// journal that cannot take it (its bound, a full disk) is given up: the
/// client goes on in memory, and the error (`Ok(Some)`) says so once. But
/// while it holds parked records (the only copy), it stays, and the record
/// is refused (`Err`): the spool is full.
fn journal(st: &mut State, record: &Record) -> Result<Option<Error>, Error> {
    let seq = st.queue.entered();
    let Some(Err(failed)) = st.journal.as_mut().map(|j| j.record(seq, record)) else {
        st.spool_full = false;
        return Ok(None);
    };
    if st.parked_from.is_some() {
        return Err(Error::Spool {
            reason: format!("record dropped: the spool holds what the service has not taken yet, and is full: {failed}"),
        });
    }
    if let Some(journal) = st.journal.take() {
        journal.give_up();
    }
    Ok(Some(Error::Spool {
        reason: format!("journal given up, records are kept in memory only from now on: {failed}"),
    }))
}
