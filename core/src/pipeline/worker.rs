//! The worker thread: takes records from the queue in order, writes them as
//! batches, and keeps up to `max_in_flight` of them on their way.
//!
//! Each round it settles the batches that came back, then sends what is
//! due, then sleeps until a delivery, a caller or a timer wakes it:
//! - a batch goes when `batch_size` records wait, or at the interval, a
//!   flush or shutdown; under a backlog it takes up to `max_batch_records`
//!   (and `max_batch_bytes`) at once;
//! - a batch that failed every retry is held and goes first, alone, at the
//!   next interval or flush; nothing newer goes before it;
//! - spooled batches from an earlier run go before live ones;
//! - at shutdown, waits between retries end, and what cannot be delivered
//!   by the deadline goes to the spool (or is counted lost).

use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::{Arc, MutexGuard};
use std::task::{Context, Waker};
use std::thread;
use std::time::{Duration, Instant};

use super::accounting::{answer, Accounts};
use super::delivery::{self, Job, Origin, Sender, SpooledFile, Verdict, Window};
use super::queue::Records;
use super::{Pipeline, State};
use crate::batch::BatchWriter;
use crate::block_on::Unpark;
use crate::pending::Pending;
use crate::spool::SpoolError;
use crate::{clock, spare, Batch, Error, TransportError};

/// How long the worker waits for more records after sending a full batch,
/// before it goes idle and asks producers to wake it.
const LINGER: Duration = Duration::from_millis(2);

/// Room reserved per record in a new batch body (a typical record is smaller).
const RECORD_BYTES: usize = 256;

pub(super) fn run(p: &Pipeline) {
    p.config().thread_priority.apply_to_current_thread();
    crate::wall_clock::calibrate_in_background();
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut worker = Worker::new(p);
    loop {
        match worker.round(&mut cx) {
            Next::Again => {}
            // A wake before the park leaves a token: none is lost.
            Next::Sleep(until) => {
                thread::park_timeout(until.saturating_duration_since(Instant::now()))
            }
            Next::Stop => return,
        }
    }
}

enum Next {
    Again,
    Sleep(Instant),
    Stop,
}

struct Worker<'a> {
    p: &'a Pipeline,
    window: Window,
    /// Batches that failed every retry, in queue order.
    held: VecDeque<Job>,
    /// Batches written and not yet tried (halves, the next batch written
    /// while the window is full), in queue order.
    ready: VecDeque<Job>,
    /// Batches read back from the spool, sent before live ones.
    restoring: VecDeque<Job>,
    /// Spool files to read back in this pass (listed at start and each
    /// interval). They hold older records than the queue: live batches
    /// wait until they are through.
    spool_files: VecDeque<PathBuf>,
    /// A spooled batch failed for good: no more until the next interval or
    /// flush (the count of flushes when it failed).
    spool_paused: Option<u64>,
    /// Spool files delivered but not deleted: never sent again.
    delivered_files: HashSet<PathBuf>,
    next_tick: Instant,
    /// A full batch went last round: wait a little for the next one
    /// rather than have callers wake the worker.
    linger: bool,
    /// A batch failed for good during shutdown: spool the rest and stop.
    giving_up: Option<TransportError>,
}

/// Records taken from the queue for one batch.
struct Taken {
    first: u64,
    records: Records,
    /// The overflow burst that the taking ended: records it dropped.
    burst_dropped: u64,
}

impl<'a> Worker<'a> {
    fn new(p: &'a Pipeline) -> Self {
        let sender = Sender {
            transport: p.transport.clone(),
            endpoint: p.endpoint.clone(),
            policy: p.config.retry.clone(),
            retried: p.retried.clone(),
        };
        let mut worker = Worker {
            p,
            window: Window::new(p.config.max_in_flight, sender),
            held: VecDeque::new(),
            ready: VecDeque::new(),
            restoring: VecDeque::new(),
            spool_files: VecDeque::new(),
            spool_paused: None,
            delivered_files: HashSet::new(),
            next_tick: clock::after(p.config.flush_interval),
            linger: false,
            giving_up: None,
        };
        worker.list_spool();
        worker
    }

    /// One round: settle what came back, keep time, send what is due,
    /// write the next batch ahead, then tell callers how things stand.
    fn round(&mut self, cx: &mut Context<'_>) -> Next {
        let mut busy = false;
        for (job, result) in self.window.poll(cx) {
            busy = true;
            self.settle(job, result);
        }
        let now = Instant::now();
        let mut st = self.p.lock();
        if let Some(deadline) = st.control.closing {
            if now >= deadline || self.giving_up.is_some() {
                let cause = self.giving_up.take();
                return self.give_up(st, cause);
            }
            if self.window.hurry(deadline) {
                // The batches waiting to retry learn of the deadline when polled.
                return Next::Again;
            }
        }
        st = self.keep_time(st, now);
        let (mut st, sent, sent_full) = self.send_due(st);
        // Write the next batch while the window is full.
        if self.ready.is_empty() && self.spool_files.is_empty() && self.spool_paused.is_none() {
            let draining = self.draining(&st);
            if let Some(taken) = self.take(&mut st, draining) {
                drop(st);
                self.write(taken);
                st = self.p.lock();
            }
        }
        if self.publish(st) {
            return Next::Stop;
        }
        // Under a steady stream, linger after a full batch instead of asking
        // callers to wake the worker: they then never pay for a wake-up.
        self.linger |= sent_full;
        if busy || sent {
            return Next::Again;
        }
        self.sleep()
    }

    /// The interval (everything queued is due; the spool is listed again),
    /// a spill the overflow policy asked for, a flush that resumes a paused
    /// spool.
    fn keep_time(&mut self, mut st: MutexGuard<'a, State>, now: Instant) -> MutexGuard<'a, State> {
        if now >= self.next_tick {
            self.next_tick = clock::after(self.p.config.flush_interval);
            st.control.drain_to = st.queue.entered();
            self.spool_paused = None;
            if st.control.closing.is_none() && self.spool_files.is_empty() {
                self.list_spool();
            }
        }
        if std::mem::take(&mut st.control.spill_requested) {
            st = self.spill_queue(st);
        }
        if self.spool_paused.is_some_and(|at| st.control.flushes > at) {
            self.spool_paused = None;
            self.list_spool();
        }
        st
    }

    /// Whether everything queued is due now (a flush, the interval, shutdown).
    fn draining(&self, st: &State) -> bool {
        st.control.closing.is_some() || st.control.drain_to > st.watermark()
    }

    /// Sends what may go, in order: spooled batches, then a held batch
    /// (alone), then written ones, then new ones from the queue. Returns
    /// whether anything went, and whether a full batch did.
    fn send_due(&mut self, mut st: MutexGuard<'a, State>) -> (MutexGuard<'a, State>, bool, bool) {
        let closing = st.control.closing.is_some();
        let draining = self.draining(&st);
        let (mut sent, mut sent_full) = (false, false);
        while self.window.has_room() {
            let spooled_first = !closing && self.held.is_empty();
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
            } else if let Some(taken) = self.take(&mut st, draining) {
                sent_full |= taken.records.len() >= self.p.config.batch_size;
                drop(st);
                self.write(taken);
                st = self.p.lock();
                continue;
            } else {
                break;
            }
            sent = true;
        }
        (st, sent, sent_full)
    }

    /// Nothing to do: sleep until the interval or the shutdown deadline, or
    /// a little while after a full batch; callers wake an idle worker.
    fn sleep(&mut self) -> Next {
        let mut st = self.p.lock();
        let mut until = self.next_tick;
        if let Some(deadline) = st.control.closing {
            until = until.min(deadline);
        }
        if std::mem::take(&mut self.linger) {
            until = until.min(Instant::now() + LINGER);
        } else {
            st.control.worker_idle = true;
        }
        Next::Sleep(until)
    }

    /// Takes records for the next batch: when `batch_size` wait, or any
    /// when draining; nothing while a held batch waits (it goes first).
    fn take(&self, st: &mut State, draining: bool) -> Option<Taken> {
        let config = &self.p.config;
        let due = st.queue.len() >= config.batch_size || (draining && !st.queue.is_empty());
        if !due || !self.held.is_empty() {
            return None;
        }
        let first = st.queue.front_seq();
        let records = st.queue.take(
            config.max_batch_records,
            config.max_batch_bytes,
            self.p.stamp.len(),
        );
        st.control.worker_low = st.control.worker_low.min(first);
        st.control.stalled = false;
        if st.control.room_waiters > 0 {
            self.p.room.notify_all();
        }
        Some(Taken {
            first,
            records,
            burst_dropped: st.queue.end_burst(),
        })
    }

    /// Writes taken records as the next batch (or several, should the body
    /// outgrow `max_batch_bytes`), ready to go.
    fn write(&mut self, taken: Taken) {
        if taken.burst_dropped > 0 {
            self.p.report(Error::Dropped {
                records: taken.burst_dropped,
                capacity: self.p.config.queue_capacity,
            });
        }
        let batch = write_batch(self.p, taken.records);
        let mut first = taken.first;
        for part in batch.cut(self.p.config.max_batch_bytes) {
            let job = Job::live(part, first);
            first += job.len() as u64;
            self.ready.push_back(job);
        }
    }

    /// Records the outcome of a batch that came back.
    fn settle(&mut self, job: Job, result: Result<(), TransportError>) {
        let n = job.len() as u64;
        let error = match result {
            Ok(()) => return self.resolved(job, |a| a.sent += n),
            Err(error) => error,
        };
        let mut st = self.p.lock();
        if st.control.abandoned {
            return;
        }
        st.accounts.failed += n;
        drop(st);
        match delivery::verdict(job, error) {
            Verdict::Split(a, b) => {
                // The halves go back where the batch came from, first in line.
                let lane = match (&a.origin, self.held.front()) {
                    (Origin::Spooled(_), _) => &mut self.restoring,
                    (Origin::Live { first }, Some(h)) if h.first() > Some(*first) => &mut self.held,
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

    /// A batch is done with (sent, or given up): count it with `count` and,
    /// for a spooled one, delete its file once all its parts are done.
    fn resolved(&mut self, job: Job, count: impl FnOnce(&mut Accounts)) {
        let mut st = self.p.lock();
        if st.control.abandoned {
            return;
        }
        count(&mut st.accounts);
        let n = job.len() as u64;
        match job.origin {
            Origin::Live { .. } => st.accounts.resolved += n,
            Origin::Spooled(file) => {
                st.accounts.restored += n;
                drop(st);
                file.parts.set(file.parts.get() - 1);
                if file.parts.get() == 0 && !file.keep.get() {
                    self.delete_spooled(&file.path);
                }
            }
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
            self.spool_paused = Some(self.p.lock().control.flushes);
            return self.p.report(Error::Undelivered {
                records: job.len(),
                cause,
            });
        }
        let at = self.held.partition_point(|h| h.first() < job.first());
        self.held.insert(at, job);
        let mut st = self.p.lock();
        if st.control.closing.is_some() {
            self.giving_up = Some(cause);
            return;
        }
        // No retry before the next interval or flush.
        st.control.drain_to = 0;
        st.control.failing = true;
        let error = Error::Undelivered {
            records: (st.queue.entered() - st.accounts.resolved) as usize,
            cause,
        };
        let replies = st.accounts.take_all();
        drop(st);
        self.p.report(error.clone());
        answer(replies, &Err(error));
    }

    /// Shutdown ran out of time (`cause` is `None`) or a batch failed for
    /// good: spool everything left, in order (or count it lost), and stop.
    fn give_up(&mut self, mut st: MutexGuard<'a, State>, cause: Option<TransportError>) -> Next {
        let mut jobs: Vec<Job> = self.window.cancel();
        jobs.extend(self.held.drain(..));
        jobs.extend(self.ready.drain(..));
        // Spooled batches are still in their files.
        jobs.retain(|job| job.first().is_some());
        jobs.sort_by_key(Job::first);
        self.restoring.clear();
        let queued = st.queue.take_all();
        let records = jobs.iter().map(|j| j.len() as u64).sum::<u64>() + queued.len() as u64;
        drop(st);
        let batches = jobs.into_iter().map(unshare).collect();
        let spooled = spill(self.p, batches, queued);
        let mut st = self.p.lock();
        if !st.control.abandoned {
            st.accounts.spooled += spooled;
            st.accounts.lost += records - spooled;
            st.accounts.resolved += records;
            st.control.lost_at_close += records - spooled;
            if cause.is_some() {
                st.control.lost_cause = cause;
            }
        }
        self.finish(st);
        Next::Stop
    }

    /// Publishes the worker's state to callers and answers the flushes that
    /// are done; at the end of a shutdown, stops (true).
    fn publish(&mut self, mut st: MutexGuard<'a, State>) -> bool {
        let low = [
            self.window.lowest(),
            lowest(&self.held),
            lowest(&self.ready),
        ]
        .into_iter()
        .flatten()
        .min();
        st.control.worker_low = low.unwrap_or(u64::MAX);
        let failing =
            self.window.is_troubled() || !self.held.is_empty() || self.spool_paused.is_some();
        if failing != st.control.failing {
            st.control.failing = failing;
            self.p.room.notify_all();
        }
        let watermark = st.watermark();
        let done = st.accounts.finished(watermark);
        let finished = st.control.closing.is_some()
            && low.is_none()
            && st.queue.is_empty()
            && self.restoring.is_empty()
            && self.window.is_empty();
        if finished {
            self.finish(st);
        } else {
            drop(st);
        }
        for (reply, outcome) in done {
            let _ = reply.send(outcome);
        }
        finished
    }

    /// Stops: answers whoever waits, reports what shutdown lost.
    fn finish(&mut self, mut st: MutexGuard<'a, State>) {
        st.control.worker_done = true;
        let outcome = st.close_outcome();
        let closers = std::mem::take(&mut st.control.closers);
        let replies = st.accounts.take_all();
        let abandoned = st.control.abandoned;
        let dropped = st.queue.end_burst();
        drop(st);
        if let Some(spool) = &self.p.spool {
            spool.release();
        }
        self.p.room.notify_all();
        if dropped > 0 {
            self.p.report(Error::Dropped {
                records: dropped,
                capacity: self.p.config.queue_capacity,
            });
        }
        if let (Err(e), false) = (&outcome, abandoned) {
            self.p.report(e.clone());
        }
        answer(replies, &outcome);
        for closer in closers {
            let _ = closer.send(());
        }
    }

    /// The overflow policy `Spool`: move what waits (written batches, then
    /// the queue, in order) to disk so that callers find room again. Held
    /// batches stay: they are older than any spool file and go first; live
    /// batches wait until the spool files are through.
    fn spill_queue(&mut self, mut st: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        let queued = st.queue.take_all();
        drop(st);
        let batches: Vec<Batch> = self.ready.drain(..).map(unshare).collect();
        let n = batches.iter().map(|b| b.len() as u64).sum::<u64>() + queued.len() as u64;
        let spooled = spill(self.p, batches, queued);
        self.list_spool();
        let mut st = self.p.lock();
        st.accounts.spooled += spooled;
        st.accounts.dropped += n - spooled;
        st.accounts.resolved += n;
        st
    }

    /// Lists the spool files to send in this pass.
    fn list_spool(&mut self) {
        let Some(spool) = &self.p.spool else { return };
        match spool.files() {
            Ok(files) => {
                self.spool_files = files
                    .into_iter()
                    .filter(|f| !self.delivered_files.contains(f))
                    .collect();
            }
            Err(e) => self.p.report(Error::Spool {
                reason: format!("cannot list the spool: {e}"),
            }),
        }
    }

    /// Reads a spool file back to be sent; a corrupt one is set aside.
    fn restore(&mut self, path: PathBuf) {
        let Some(spool) = &self.p.spool else { return };
        match spool.read(&path) {
            Ok(batch) => self.restoring.push_back(Job {
                batch: Arc::new(batch),
                origin: Origin::Spooled(Rc::new(SpooledFile {
                    path,
                    parts: 1.into(),
                    keep: false.into(),
                })),
            }),
            Err(reason) => {
                let aside = spool.set_aside(&path);
                self.p.report(Error::Spool {
                    reason: format!(
                        "corrupt spool file set aside as {}: {reason}",
                        aside.display()
                    ),
                });
            }
        }
    }

    fn delete_spooled(&mut self, path: &Path) {
        let Some(spool) = &self.p.spool else { return };
        if let Err(e) = spool.remove(path) {
            self.delivered_files.insert(path.to_owned());
            self.p.report(Error::Spool {
                reason: format!(
                    "{} was delivered but cannot be deleted: {e}",
                    path.display()
                ),
            });
        }
    }
}

/// A job's batch, no longer shared with a delivery.
fn unshare(job: Job) -> Batch {
    Arc::try_unwrap(job.batch).unwrap_or_else(|shared| (*shared).clone())
}

fn lowest(jobs: &VecDeque<Job>) -> Option<u64> {
    jobs.iter().filter_map(Job::first).min()
}

/// Writes queue entries into one batch, handing their chunks and render
/// buffers back to callers.
fn write_batch(p: &Pipeline, mut records: Records) -> Batch {
    let mut writer = BatchWriter::new(records.len(), RECORD_BYTES);
    let mut spares = Vec::new();
    for chunk in &mut records.chunks {
        for record in chunk.drain(..) {
            writer.push(|out| spares.extend(p.stamp.write(out, record)));
        }
    }
    let mut st = p.lock();
    st.queue.recycle(&mut records.chunks);
    let room = spare::POOL_MOST.saturating_sub(st.spare.len());
    st.spare.extend(spares.drain(..room.min(spares.len())));
    drop(st);
    // What the pools have no room for is freed after the lock.
    writer.finish()
}

/// Writes batches and then queued records (in batches) to the spool;
/// returns how many records were written. A batch the spool has no room
/// for is halved until what fits is written. Without a spool, nothing is
/// written; a failure is reported.
pub(super) fn spill(p: &Pipeline, batches: Vec<Batch>, queued: Vec<Pending>) -> u64 {
    let Some(spool) = &p.spool else { return 0 };
    let mut queued = queued.into_iter();
    let mut todo: VecDeque<Batch> = batches.into();
    while queued.len() > 0 {
        let n = queued.len().min(p.config.max_batch_records);
        let records = Records::from(queued.by_ref().take(n).collect::<Vec<_>>());
        todo.push_back(write_batch(p, records));
    }
    let (mut written, mut refused) = (0, 0);
    let mut last_error = None;
    while let Some(batch) = todo.pop_front() {
        match spool.write(&batch) {
            Ok(()) => written += batch.len() as u64,
            Err(SpoolError::Full { .. }) if batch.len() > 1 => {
                let (a, b) = batch.split();
                todo.push_front(b);
                todo.push_front(a);
            }
            Err(e) => {
                refused += batch.len();
                last_error = Some(e);
            }
        }
    }
    if let Some(e) = last_error {
        p.report(Error::Spool {
            reason: format!("{refused} record(s) not spooled: {e}"),
        });
    }
    written
}
