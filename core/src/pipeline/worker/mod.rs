//! The worker thread: takes records from the queue in order, forms them
//! into batches, and keeps up to `max_in_flight` of them on their way.
//!
//! Each round it settles the batches that came back ([`outcomes`]), then
//! sends what is due ([`sending`]), then sleeps until a delivery, a caller
//! or a timer wakes it:
//! - a batch goes when `batch_size` records wait, or at the interval, a
//!   flush or shutdown; under a backlog it takes up to `max_batch_records`
//!   (and `max_batch_bytes`) at once;
//! - a batch that failed every retry is held and goes first, alone, at the
//!   next interval or flush; nothing newer goes before it;
//! - spooled batches from an earlier run go before live ones ([`restoring`]);
//! - at shutdown, waits between retries end, and what cannot be delivered
//!   by the deadline goes to the spool (or is counted lost).

mod outcomes;
mod restoring;
mod sending;

use std::collections::{HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, MutexGuard};
use std::task::{Context, Waker};
use std::thread;
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::pipeline::accounting::answer;
use crate::pipeline::delivery::{Sender, Window};
use crate::pipeline::job::Job;
use crate::pipeline::journal::SpareSegment;
use crate::pipeline::shared::Pipeline;
use crate::pipeline::state::{Health, Phase, State};
use crate::rt::block_on::Unpark;
use crate::rt::clock;
use crate::transport::error::TransportError;

/// How long the worker waits for more records after sending a full batch,
/// before it goes idle and asks producers to wake it.
const LINGER: Duration = Duration::from_millis(2);

pub(crate) fn run(p: &Pipeline) {
    crate::pipeline::live::mark_worker(p);
    p.config().thread_priority.apply_to_current_thread();
    crate::rt::wall_clock::calibrate_in_background();
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
    /// Batches formed and not yet tried (halves, the next batch formed
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
    /// About how many bytes the resource (and dataset) adds to each record
    /// on the wire, for the batches' byte bound.
    stamp_bytes: usize,
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
            stamp_bytes: stamp_bytes(p),
        };
        worker.list_spool();
        worker
    }

    /// One round: settle what came back, keep time, send what is due, form
    /// the next batch ahead, then tell callers how things stand.
    fn round(&mut self, cx: &mut Context<'_>) -> Next {
        let mut busy = false;
        for (job, result) in self.window.poll(cx) {
            busy = true;
            self.settle(job, result);
        }
        let now = Instant::now();
        let mut st = self.p.lock();
        if st.phase == Phase::Abandoned {
            // The closer counted everything when it gave up on this worker
            // (a transport that blocked its thread): it only lets go now.
            self.finish(st);
            return Next::Stop;
        }
        for request in st.requests.drain(..) {
            busy = true;
            self.window.call(request);
        }
        if let Some(deadline) = st.deadline() {
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
        let (st, sent, sent_full) = self.send_due(st);
        let st = self.form_ahead(st);
        if self.publish(st) {
            return Next::Stop;
        }
        // Under a steady stream, linger after a full batch instead of asking
        // callers to wake the worker: they then never pay for a wake-up.
        self.linger |= sent_full;
        // Calls just handed over are polled at once.
        if busy || sent {
            return Next::Again;
        }
        self.sleep()
    }

    /// Whether everything queued is due now (a flush, the interval, shutdown).
    fn draining(&self, st: &State) -> bool {
        !st.is_running() || st.drain_to > st.watermark()
    }

    /// Nothing to do: sleep until the interval or the shutdown deadline, or
    /// a little while after a full batch; callers wake an idle worker.
    fn sleep(&mut self) -> Next {
        let mut st = self.p.lock();
        let mut until = self.next_tick;
        if let Some(deadline) = st.deadline() {
            until = until.min(deadline);
        }
        if std::mem::take(&mut self.linger) {
            until = until.min(Instant::now() + LINGER);
        } else {
            st.worker_idle = true;
        }
        Next::Sleep(until)
    }

    /// Publishes the worker's state to callers and answers the flushes that
    /// are done; at the end of a shutdown, stops (true).
    fn publish(&mut self, mut st: MutexGuard<'a, State>) -> bool {
        let low = self.lowest(Job::first);
        st.worker_low = low.unwrap_or(u64::MAX);
        // The journal keeps parked records too, until they are delivered.
        let in_journal = [self.lowest(Job::seq), st.parked_from]
            .into_iter()
            .flatten()
            .min();
        let parked = st.parked_from.is_some() || self.jobs().any(Job::is_parked);
        let failing =
            self.window.is_troubled() || !self.held.is_empty() || self.spool_paused.is_some();
        if failing != (st.health == Health::Failing) {
            st.health = if failing { Health::Failing } else { Health::Ok };
            self.p.room.notify_all();
        }
        let watermark = st.watermark();
        let journal_mark = in_journal.map_or(watermark, |low| low.min(watermark));
        let resolved = st.journal.as_mut().map(|j| j.set_watermark(journal_mark));
        // A flush waits for the spool's older records too, while they go.
        st.spool_backlog = !failing
            && (parked
                || !self.spool_files.is_empty()
                || !self.restoring.is_empty()
                || self.window.jobs().any(|job| job.first().is_none()));
        let done = if st.spool_backlog {
            Vec::new()
        } else {
            st.accounts.finished(watermark)
        };
        let finished = st.deadline().is_some()
            && in_journal.is_none()
            && st.queue.is_empty()
            && self.restoring.is_empty()
            && self.window.is_idle();
        let spare = if finished {
            self.finish(st);
            None
        } else {
            let spare = st.journal.as_mut().and_then(|j| j.spare_needed());
            drop(st);
            spare
        };
        // The next segment made (from a delivered one the journal kept, or
        // created), outside the lock and before a caller needs it; the
        // other delivered segments deleted.
        let spare = spare.map(SpareSegment::make);
        for path in resolved.unwrap_or_default() {
            let _ = std::fs::remove_file(path);
        }
        if let Some(made) = spare {
            match self.p.lock().journal.as_mut() {
                Some(journal) => journal.install(made),
                // Given up meanwhile: the file goes.
                None => drop(made.map(|s| std::fs::remove_file(&s.path))),
            }
        }
        for (reply, outcome) in done {
            let _ = reply.send(outcome);
        }
        finished
    }

    /// Stops: answers whoever waits, reports what shutdown lost.
    fn finish(&mut self, mut st: MutexGuard<'a, State>) {
        let abandoned = st.phase == Phase::Abandoned;
        if !abandoned {
            st.phase = Phase::Done;
        }
        let outcome = st.close_outcome();
        let closers = std::mem::take(&mut st.closers);
        let replies = st.accounts.take_all();
        let dropped = st.queue.end_burst();
        // Calls handed over too late end unanswered: their callers hear `Closed`.
        st.requests.clear();
        // Everything resolved (delivered, spooled, or counted): the journal
        // has nothing left to recover. Abandoned, or holding what shutdown
        // could not deliver: it stays, for the next start.
        let journal = st.journal.take();
        let all_resolved = st.accounts.resolved >= st.queue.entered();
        let keep = abandoned || st.leftovers_in_journal;
        drop(st);
        if let (Some(journal), false, true) = (journal, keep, all_resolved) {
            for path in journal.into_paths() {
                let _ = std::fs::remove_file(path);
            }
        }
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
}

/// `,"source":..,"environment":..,"version":..,"dataset":..` as JSON, about.
fn stamp_bytes(p: &Pipeline) -> usize {
    let text = |s: &str| s.len() + s.len() / 8 + 16;
    let r = &p.resource;
    text(&r.source)
        + text(r.environment.as_str())
        + r.version.as_deref().map_or(0, text)
        + p.config.dataset.as_deref().map_or(0, text)
}

impl Worker<'_> {
    /// Every batch the worker holds of this process's records (on their
    /// way, formed, held after a failure).
    fn jobs(&self) -> impl Iterator<Item = &Job> {
        self.window.jobs().chain(&self.held).chain(&self.ready)
    }

    /// The lowest sequence number among them, by `seq` (live records, or
    /// those in the journal).
    fn lowest(&self, seq: fn(&Job) -> Option<u64>) -> Option<u64> {
        self.jobs().filter_map(seq).min()
    }
}
