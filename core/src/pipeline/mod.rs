//! The way from a logging call to the transport: a bounded queue that
//! callers push to ([`queue`]), a worker thread that writes batches and
//! hands them to the transport ([`worker`]), several at once ([`delivery`]),
//! the counters and flushes ([`accounting`]), and the spool.
//!
//! Callers only lock the queue, push and (rarely) wake the worker: no I/O.
//! At the queue's bound the overflow policy decides: drop the newest, drop
//! the oldest, move the queue to the spool, or let the caller wait a little
//! for room while deliveries succeed.

mod accounting;
mod delivery;
mod queue;
mod worker;

use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use futures_channel::oneshot;

use crate::encode::Stamp;
use crate::pending::Pending;
use crate::spool::Spool;
use crate::validate::limits;
use crate::{
    clock, spare, Config, Endpoint, Error, OverflowPolicy, Stats, Transport, TransportError,
    ValidationError, Violation,
};
use accounting::{answer, Accounts};
use queue::Queue;

pub(crate) struct Pipeline {
    state: Mutex<State>,
    /// Callers waiting for room in the queue (`OverflowPolicy::Block`).
    room: Condvar,
    config: Config,
    stamp: Stamp,
    endpoint: Arc<Endpoint>,
    transport: Arc<dyn Transport>,
    spool: Option<Spool>,
    /// The worker thread, to wake it.
    worker: OnceLock<Thread>,
    invalid: AtomicU64,
    retried: Arc<AtomicU64>,
}

struct State {
    queue: Queue,
    accounts: Accounts,
    control: Control,
    /// Buffers of written records, for callers to render into again.
    spare: Vec<Vec<u8>>,
}

/// What callers and the worker tell each other.
#[derive(Default)]
struct Control {
    /// A flush or the interval wants every record below this sent now.
    drain_to: u64,
    /// Flushes asked for so far (a paused spool tries again after one).
    flushes: u64,
    /// Set by `close`: nothing more is accepted; the worker delivers until
    /// this deadline.
    closing: Option<Instant>,
    closers: Vec<oneshot::Sender<()>>,
    /// The worker sleeps until the next batch is full or the interval.
    worker_idle: bool,
    worker_done: bool,
    /// The worker was given up on at the deadline: its late results are ignored.
    abandoned: bool,
    /// The lowest sequence number among the records the worker holds
    /// (written, in flight, kept after a failure); `u64::MAX` for none.
    worker_low: u64,
    /// Deliveries are failing: callers do not wait for room.
    failing: bool,
    /// A caller waited for room in vain (the service hangs): later callers
    /// do not wait until the worker takes records again.
    stalled: bool,
    /// Callers waiting for room.
    room_waiters: usize,
    /// The overflow policy asked the worker to move the queue to the spool.
    spill_requested: bool,
    /// What shutdown could not deliver, and the last failure.
    lost_at_close: u64,
    lost_cause: Option<TransportError>,
}

impl State {
    /// Every record below this sequence number is resolved.
    fn watermark(&self) -> u64 {
        self.queue.front_seq().min(self.control.worker_low)
    }

    fn close_outcome(&self) -> Result<(), Error> {
        match self.control.lost_at_close {
            0 => Ok(()),
            records => Err(Error::Lost {
                records: records as usize,
                cause: self.control.lost_cause.clone(),
            }),
        }
    }
}

impl Pipeline {
    pub(crate) fn start(
        config: Config,
        endpoint: Endpoint,
        transport: Arc<dyn Transport>,
        spool: Option<Spool>,
    ) -> std::io::Result<(Arc<Self>, thread::ThreadId)> {
        let pipeline = Arc::new(Pipeline {
            state: Mutex::new(State {
                queue: Queue::new(config.queue_capacity, config.queue_max_bytes),
                accounts: Accounts::default(),
                control: Control {
                    worker_low: u64::MAX,
                    ..Control::default()
                },
                spare: Vec::new(),
            }),
            room: Condvar::new(),
            stamp: Stamp::new(&config),
            config,
            endpoint: Arc::new(endpoint),
            transport,
            spool,
            worker: OnceLock::new(),
            invalid: AtomicU64::new(0),
            retried: Arc::default(),
        });
        let worker = Arc::clone(&pipeline);
        let handle = thread::Builder::new()
            .name("timber-worker".into())
            .spawn(move || worker::run(&worker))?;
        let _ = pipeline.worker.set(handle.thread().clone());
        Ok((pipeline, handle.thread().id()))
    }

    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    pub(crate) fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    pub(crate) fn transport(&self) -> &Arc<dyn Transport> {
        &self.transport
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic in a callback must not wedge logging: the state stays
        // consistent because it is only changed in sections that cannot panic.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wake_worker(&self) {
        if let Some(worker) = self.worker.get() {
            worker.unpark();
        }
    }

    fn on_worker_thread(&self) -> bool {
        self.worker
            .get()
            .is_some_and(|w| w.id() == thread::current().id())
    }

    /// Calls `on_error`. A panicking callback must not take the worker (and
    /// with it every later delivery) down, and a callback that logs through
    /// the client must not recurse: what its own logging would report is
    /// not reported again from inside it (the counters still count it).
    pub(crate) fn report(&self, error: Error) {
        thread_local! {
            static IN_CALLBACK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
        }
        if IN_CALLBACK
            .try_with(|inside| inside.replace(true))
            .unwrap_or(true)
        {
            return;
        }
        let callback = &self.config.on_error;
        let _ = panic::catch_unwind(AssertUnwindSafe(|| callback(&error)));
        let _ = IN_CALLBACK.try_with(|inside| inside.set(false));
    }

    pub(crate) fn count_invalid(&self) {
        self.invalid.fetch_add(1, Ordering::Relaxed);
    }

    /// Queues a validated record (the caller counts a refusal). With `step`, assigns the flow's next step
    /// index under the queue lock, so queue order is step order and a
    /// refused record consumes no step.
    pub(crate) fn push(&self, mut record: Pending, step: Option<&AtomicU32>) -> Result<(), Error> {
        let size = record.size();
        if size > self.config.max_batch_bytes {
            return Err(Error::Validation(ValidationError {
                field: "record".into(),
                violation: Violation::TooLarge,
                limit: self.config.max_batch_bytes,
                actual: size,
            }));
        }
        let mut st = self.lock();
        if !st.queue.has_room_for(size) && st.control.closing.is_none() {
            st = self.wait_for_room(st, size);
        }
        if st.control.closing.is_some() {
            return Err(Error::Closed);
        }
        let next_step = step.map(|counter| counter.load(Ordering::Relaxed));
        if let Some(next) = next_step.filter(|n| *n > limits::STEP_INDEX) {
            return Err(Error::Validation(ValidationError {
                field: "stepIndex".into(),
                violation: Violation::TooLarge,
                limit: limits::STEP_INDEX as usize,
                actual: next as usize,
            }));
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
                let spill =
                    self.config.overflow == OverflowPolicy::Spool && !st.control.spill_requested;
                st.control.spill_requested |= spill;
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
        if let (Some(counter), Some(index)) = (step, next_step) {
            record.set_step(index);
            counter.store(index + 1, Ordering::Relaxed);
        }
        st.queue.push(record, size);
        spare::restock(&mut st.spare);
        let wake = st.control.worker_idle && st.queue.len() >= self.config.batch_size;
        if wake {
            st.control.worker_idle = false;
        }
        drop(st);
        if wake {
            self.wake_worker();
        }
        if let Some(e) = burst_began {
            self.report(e);
        }
        Ok(())
    }

    /// `OverflowPolicy::Block`: waits up to `max_wait` for room, while
    /// deliveries succeed. Never on the worker's own thread (a callback that
    /// logs), never once deliveries fail, and once a wait was in vain, not
    /// again until the queue moves: a program must not slow down because
    /// the service is down or hangs.
    fn wait_for_room<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        size: usize,
    ) -> MutexGuard<'a, State> {
        let OverflowPolicy::Block { max_wait } = self.config.overflow else {
            return st;
        };
        if self.on_worker_thread() {
            return st;
        }
        let until = clock::after(max_wait);
        st.control.room_waiters += 1;
        while !st.queue.has_room_for(size)
            && !st.control.failing
            && !st.control.stalled
            && st.control.closing.is_none()
        {
            let now = Instant::now();
            if now >= until {
                st.control.stalled = true;
                break;
            }
            // The worker may be idle, waiting for its interval.
            if std::mem::take(&mut st.control.worker_idle) {
                self.wake_worker();
            }
            st = self
                .room
                .wait_timeout(st, until - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        st.control.room_waiters -= 1;
        st
    }

    pub(crate) fn stats(&self) -> Stats {
        let st = self.lock();
        st.accounts.stats(
            st.queue.entered(),
            self.retried.load(Ordering::Relaxed),
            self.invalid.load(Ordering::Relaxed),
        )
    }

    /// Resolves when everything queued before the call was delivered, or
    /// with the error of the batch that could not be.
    pub(crate) fn flush(&self) -> impl Future<Output = Result<(), Error>> {
        let (tx, rx) = oneshot::channel();
        {
            let mut st = self.lock();
            st.control.flushes += 1;
            let target = st.queue.entered();
            if st.watermark() >= target {
                let _ = tx.send(Ok(()));
            } else if st.control.worker_done {
                let _ = tx.send(st.close_outcome());
            } else {
                st.control.drain_to = st.control.drain_to.max(target);
                st.accounts.wait(target, tx);
                st.control.worker_idle = false;
            }
        }
        self.wake_worker();
        async move { rx.await.unwrap_or(Err(Error::Closed)) }
    }

    /// Stops accepting records, delivers what is queued within `timeout`
    /// (the first close's, if one is under way), and stops the worker. The
    /// worker goes on if the future is dropped.
    pub(crate) fn close(&self, timeout: Duration) -> impl Future<Output = Result<(), Error>> + '_ {
        let (tx, rx) = oneshot::channel();
        let deadline = {
            let mut st = self.lock();
            // The worker stops a little before the caller stops waiting, so
            // that its last outcome is recorded within the timeout.
            let timeout = clock::clamp(timeout);
            let grace = (timeout / 10).min(Duration::from_millis(100));
            let deadline = *st
                .control
                .closing
                .get_or_insert_with(|| clock::after(timeout - grace))
                + grace;
            if st.control.worker_done {
                let _ = tx.send(());
            } else {
                st.control.closers.push(tx);
            }
            deadline
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
        if st.control.worker_done || st.control.abandoned {
            return;
        }
        st.control.abandoned = true;
        let pending = st.queue.entered() - st.accounts.resolved;
        let queued = st.queue.take_all();
        st.accounts.resolved = st.queue.entered();
        let replies = st.accounts.take_all();
        drop(st);
        let spooled = worker::spill(self, Vec::new(), queued);
        let lost = pending - spooled;
        let mut st = self.lock();
        st.accounts.spooled += spooled;
        st.accounts.lost += lost;
        st.control.lost_at_close += lost;
        let outcome = st.close_outcome();
        drop(st);
        answer(replies, &outcome);
        if let Err(e) = outcome {
            self.report(e);
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.lock().control.closing.is_some()
    }
}
