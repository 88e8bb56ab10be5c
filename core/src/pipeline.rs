//! The queue between callers and the network, and the worker thread that
//! drains it.
//!
//! Callers only lock the queue, push and (rarely) wake the worker: no I/O,
//! no waiting. The worker forms batches in queue order, sends them through the
//! transport with retries, and keeps a batch that still fails (`held`) to send
//! it first next time, so order holds and nothing is sent twice after a success.

use std::collections::VecDeque;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::pin;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::Poll;
use std::thread;
use std::time::{Duration, Instant};

use futures_channel::oneshot;

use crate::batch::BatchWriter;
use crate::block_on::block_on_with;
use crate::encode::Stamp;
use crate::pending::Pending;
use crate::spare;
use crate::spool::Spool;
use crate::validate::limits;
use crate::{
    Batch, Config, Endpoint, Error, OverflowPolicy, Stats, Transport, TransportError,
    ValidationError, Violation,
};

type Reply = oneshot::Sender<Result<(), Error>>;

/// About how many records the worker takes from the queue at a time.
const TAKE_PER_LOCK: usize = 1024;

/// How long the worker waits for more records after sending a full batch,
/// before it goes idle and asks producers to wake it.
const LINGER: Duration = Duration::from_millis(2);

/// Room reserved per record in a new batch body (a typical record is smaller).
const RECORD_BYTES: usize = 256;

/// How many records the worker takes from the queue batch by batch while
/// it keeps sending, before it goes back to its other duties (interval,
/// spool).
const REFILL_MOST: usize = 64 * 1024;

pub(crate) struct Pipeline {
    state: Mutex<State>,
    /// Wakes the worker (batch ready, flush, close) and lets it sleep with a deadline.
    wake: Condvar,
    config: Config,
    stamp: Stamp,
    endpoint: Endpoint,
    transport: Arc<dyn Transport>,
    spool: Option<Spool>,
    invalid: AtomicU64,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Pending>,
    /// Buffers of written records, for callers to render into again.
    spare: Vec<Vec<u8>>,
    /// Batches that failed every retry (the first of them) or were not tried
    /// after it; they go first, in order, on the next attempt.
    held: VecDeque<Batch>,
    /// Records that ever entered the queue / that left it for good (sent or
    /// dropped). Their difference is what is pending; flush waits on them.
    entered: u64,
    resolved: u64,
    /// Send until `resolved` reaches this (set by interval, flush and close).
    drain_to: u64,
    flushes: Vec<(u64, Reply)>,
    closers: Vec<oneshot::Sender<()>>,
    worker_idle: bool,
    /// Set by disconnect: no new records; deliver until this deadline.
    closing: Option<Instant>,
    worker_done: bool,
    /// The worker was given up on at the deadline: its late results are ignored.
    abandoned: bool,
    /// What shutdown could not deliver (summed over its rounds) and the last
    /// failure, returned by `close`.
    lost_at_close: usize,
    lost_cause: Option<TransportError>,
    in_overflow_burst: bool,
    /// The overflow policy asked the worker to move the queue to the spool.
    spill_requested: bool,
    /// Spool files may be waiting to be sent (at start, then every interval).
    spool_waiting: bool,
    accepted: u64,
    spooled: u64,
    restored: u64,
    sent: u64,
    retried: u64,
    failed: u64,
    dropped: u64,
    lost: u64,
}

impl State {
    fn pending(&self) -> u64 {
        self.entered - self.resolved
    }

    /// Takes records to send: many batches per lock (the lock is shared with
    /// every caller, and each taking of it costs them), whole batches only
    /// unless `partial`.
    fn take(&mut self, batch_size: usize, partial: bool) -> Vec<Pending> {
        let most = (TAKE_PER_LOCK / batch_size).max(1) * batch_size;
        let mut n = self.queue.len().min(most);
        if !partial {
            n -= n % batch_size;
        }
        self.in_overflow_burst = false;
        self.queue.drain(..n).collect()
    }

    /// Takes the flushes whose records are all resolved, to be answered.
    fn finished_flushes(&mut self) -> Vec<Reply> {
        let resolved = self.resolved;
        let (done, waiting) = std::mem::take(&mut self.flushes)
            .into_iter()
            .partition(|(target, _)| *target <= resolved);
        self.flushes = waiting;
        done.into_iter().map(|(_, tx)| tx).collect()
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
                spool_waiting: spool.is_some(),
                ..State::default()
            }),
            wake: Condvar::new(),
            stamp: Stamp::new(&config),
            config,
            endpoint,
            transport,
            spool,
            invalid: AtomicU64::new(0),
        });
        let worker = Arc::clone(&pipeline);
        let handle = thread::Builder::new()
            .name("timber-worker".into())
            .spawn(move || worker.run())?;
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
        // A panic in on_error must not wedge logging: the state stays consistent
        // because it is only mutated in short sections that cannot panic.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Calls `on_error`; a panicking callback must not take the worker (and
    /// with it every later delivery) down.
    pub(crate) fn report(&self, error: Error) {
        let callback = &self.config.on_error;
        let _ = panic::catch_unwind(AssertUnwindSafe(|| callback(&error)));
    }

    pub(crate) fn count_invalid(&self) {
        self.invalid.fetch_add(1, Ordering::Relaxed);
    }

    /// Queues a validated record. With `step`, assigns the flow's next step
    /// index under the queue lock, so queue order is step order and a
    /// refused record consumes no step.
    pub(crate) fn push(&self, mut record: Pending, step: Option<&AtomicU32>) -> Result<(), Error> {
        let mut st = self.lock();
        if st.closing.is_some() {
            drop(st);
            self.count_invalid();
            return Err(Error::Closed);
        }
        let next_step = step.map(|counter| counter.load(Ordering::Relaxed));
        if let Some(next) = next_step.filter(|n| *n > limits::STEP_INDEX) {
            drop(st);
            self.count_invalid();
            return Err(Error::Validation(ValidationError {
                field: "stepIndex".into(),
                violation: Violation::TooLarge,
                limit: limits::STEP_INDEX as usize,
                actual: next as usize,
            }));
        }
        st.accepted += 1;
        let mut burst_report = None;
        if st.queue.len() >= self.config.queue_capacity {
            st.dropped += 1;
            let first_of_burst = !std::mem::replace(&mut st.in_overflow_burst, true);
            let full = Error::QueueFull {
                capacity: self.config.queue_capacity,
                dropped: st.dropped,
            };
            if self.config.overflow != OverflowPolicy::DropOldest {
                let spill = self.config.overflow == OverflowPolicy::Spool && !st.spill_requested;
                st.spill_requested |= spill;
                drop(st);
                if spill {
                    self.wake.notify_one();
                }
                if first_of_burst {
                    self.report(full.clone());
                }
                return Err(full);
            }
            st.queue.pop_front();
            st.resolved += 1;
            burst_report = first_of_burst.then_some(full);
        }
        if let (Some(counter), Some(index)) = (step, next_step) {
            record.set_step(index);
            counter.store(index + 1, Ordering::Relaxed);
        }
        st.queue.push_back(record);
        st.entered += 1;
        spare::restock(&mut st.spare);
        let wake = st.worker_idle && st.queue.len() >= self.config.batch_size;
        if wake {
            st.worker_idle = false;
        }
        drop(st);
        if wake {
            self.wake.notify_one();
        }
        if let Some(e) = burst_report {
            self.report(e);
        }
        Ok(())
    }

    pub(crate) fn stats(&self) -> Stats {
        let st = self.lock();
        Stats {
            accepted: st.accepted,
            sent: st.sent,
            pending: st.pending(),
            retried: st.retried,
            failed: st.failed,
            dropped: st.dropped,
            lost: st.lost,
            spooled: st.spooled,
            restored: st.restored,
            invalid: self.invalid.load(Ordering::Relaxed),
        }
    }

    /// Resolves when everything queued before the call was delivered, or
    /// with the error of the batch that could not be.
    pub(crate) fn flush(&self) -> impl Future<Output = Result<(), Error>> {
        let (tx, rx) = oneshot::channel();
        {
            let mut st = self.lock();
            let target = st.entered;
            if st.resolved >= target {
                let _ = tx.send(Ok(()));
            } else {
                st.drain_to = st.drain_to.max(target);
                st.flushes.push((target, tx));
                st.worker_idle = false;
            }
        }
        self.wake.notify_one();
        async move { rx.await.unwrap_or(Err(Error::Closed)) }
    }

    /// Stops accepting records, delivers what is queued within the shutdown
    /// timeout, and stops the worker.
    pub(crate) fn close(&self) -> impl Future<Output = Result<(), Error>> + '_ {
        let (tx, rx) = oneshot::channel();
        let deadline = {
            let mut st = self.lock();
            // The worker stops retrying a little before the caller stops
            // waiting, so that its last outcome is recorded within the timeout.
            let timeout = self.config.shutdown_timeout;
            let grace = (timeout / 10).min(Duration::from_millis(100));
            let deadline = *st
                .closing
                .get_or_insert_with(|| Instant::now() + timeout - grace)
                + grace;
            if st.worker_done {
                let _ = tx.send(());
            } else {
                st.closers.push(tx);
            }
            deadline
        };
        self.wake.notify_one();
        async move {
            let done = pin!(rx);
            let timer = pin!(futures_timer::Delay::new(
                deadline.saturating_duration_since(Instant::now())
            ));
            let finished_in_time = first_of(done, timer).await;
            let mut st = self.lock();
            if !finished_in_time && !st.worker_done {
                // The worker is stuck in the transport: save what it has not
                // taken (the batch in its hands is lost unless it completes).
                st.abandoned = true;
                let pending = st.pending();
                let held: Vec<Batch> = st.held.drain(..).collect();
                let queued: Vec<Pending> = st.queue.drain(..).collect();
                st.resolved = st.entered;
                drop(st);
                let (spooled, _) = self.spill(held, queued);
                let mut st = self.lock();
                st.spooled += spooled;
                let lost = pending - spooled;
                st.lost += lost;
                st.lost_at_close += lost as usize;
                let total = st.lost_at_close;
                drop(st);
                if lost > 0 {
                    self.report(Error::Lost {
                        records: lost as usize,
                        cause: None,
                    });
                }
                return match total {
                    0 => Ok(()),
                    records => Err(Error::Lost {
                        records,
                        cause: None,
                    }),
                };
            }
            match st.lost_at_close {
                0 => Ok(()),
                records => Err(Error::Lost {
                    records,
                    cause: st.lost_cause.clone(),
                }),
            }
        }
    }

    /// Whether the worker is still sending (for tests and drop).
    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closing.is_some()
    }

    fn run(&self) {
        let interval = self.config.flush_interval;
        let mut next_tick = Instant::now() + interval;
        let mut linger = false;
        loop {
            let records = {
                let mut st = self.lock();
                loop {
                    let now = Instant::now();
                    if now >= next_tick {
                        next_tick = now + interval;
                        st.drain_to = st.drain_to.max(st.entered);
                        st.spool_waiting |= self.spool.is_some() && st.closing.is_none();
                    }
                    if st.spill_requested {
                        st = self.spill_queue(st);
                    }
                    if std::mem::take(&mut st.spool_waiting) {
                        drop(st);
                        self.send_spooled();
                        st = self.lock();
                        continue;
                    }
                    let draining = st.resolved < st.drain_to || st.closing.is_some();
                    if draining {
                        if let Some(held) = st.held.pop_front() {
                            drop(st);
                            if let Err(unsent) = self.deliver(held) {
                                self.keep(unsent, Vec::new());
                            }
                            st = self.lock();
                            continue;
                        }
                    }
                    let full = st.queue.len() >= self.config.batch_size;
                    if st.held.is_empty() && (full || (draining && !st.queue.is_empty())) {
                        linger = full;
                        break st.take(self.config.batch_size, draining);
                    }
                    // Nothing to send now: every flush is either done or failed.
                    let done = st.finished_flushes();
                    if st.closing.is_some() && st.held.is_empty() && st.queue.is_empty() {
                        self.finish(st);
                        return;
                    }
                    // Under a steady stream, linger instead of asking producers
                    // to wake us: they then never pay for a wake-up syscall, and
                    // one wake-up sends many batches.
                    let wait = if std::mem::take(&mut linger) {
                        LINGER
                    } else {
                        st.worker_idle = st.held.is_empty();
                        next_tick.saturating_duration_since(now)
                    };
                    if !done.is_empty() {
                        drop(st);
                        done.into_iter().for_each(|tx| drop(tx.send(Ok(()))));
                        st = self.lock();
                        continue;
                    }
                    st = self
                        .wake
                        .wait_timeout(st, wait)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                    st.worker_idle = false;
                }
            };
            self.deliver_all(records);
        }
    }

    /// Writes queue entries into a new batch.
    fn batch(&self, records: impl ExactSizeIterator<Item = Pending>) -> Batch {
        let mut writer = BatchWriter::new(records.len(), RECORD_BYTES);
        let mut spares = Vec::new();
        for record in records {
            writer.push(|out| spares.extend(self.stamp.write(out, record)));
        }
        if !spares.is_empty() {
            let mut st = self.lock();
            let room = spare::POOL_MOST.saturating_sub(st.spare.len());
            st.spare.extend(spares.drain(..room.min(spares.len())));
            // What the pool has no room for is freed after the lock.
        }
        writer.finish()
    }

    /// Cuts queue entries into batches of the configured size.
    fn batches(&self, records: Vec<Pending>) -> Vec<Batch> {
        let mut records = records.into_iter();
        let mut batches = Vec::new();
        while records.len() > 0 {
            let n = records.len().min(self.config.batch_size);
            batches.push(self.batch(records.by_ref().take(n)));
        }
        batches
    }

    /// Writes a batch and queued records (in batches) to the spool; returns
    /// the records written and the records refused (reported). Without a
    /// spool, nothing is written.
    fn spill(&self, first: Vec<Batch>, queued: Vec<Pending>) -> (u64, u64) {
        let Some(spool) = &self.spool else {
            let n = first.iter().map(Batch::len).sum::<usize>() + queued.len();
            return (0, n as u64);
        };
        let batches = first.into_iter().chain(self.batches(queued));
        let (mut written, mut refused) = (0, 0);
        let mut last_error = None;
        for batch in batches {
            let n = batch.len() as u64;
            match spool.write(&batch) {
                Ok(()) => written += n,
                Err(e) => {
                    refused += n;
                    last_error = Some(e);
                }
            }
        }
        if let Some(e) = last_error {
            self.report(Error::Spool {
                reason: format!("{refused} record(s) not spooled: {e}"),
            });
        }
        (written, refused)
    }

    /// The overflow policy `Spool`: move the queue (not the held batch, which
    /// is retried first) to disk so that producers find room again.
    fn spill_queue<'a>(&'a self, mut st: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        st.spill_requested = false;
        let queued: Vec<Pending> = st.queue.drain(..).collect();
        let n = queued.len() as u64;
        st.in_overflow_burst = false;
        drop(st);
        let (spooled, refused) = self.spill(Vec::new(), queued);
        let mut st = self.lock();
        st.spooled += spooled;
        st.dropped += refused;
        st.resolved += n;
        let done = st.finished_flushes();
        drop(st);
        done.into_iter().for_each(|tx| drop(tx.send(Ok(()))));
        self.lock()
    }

    /// Sends spool files oldest first; stops at the first that fails (it
    /// stays for the next interval or start). Corrupt files are set aside.
    fn send_spooled(&self) {
        let Some(spool) = &self.spool else { return };
        let files = match spool.files() {
            Ok(files) => files,
            Err(e) => {
                return self.report(Error::Spool {
                    reason: format!("cannot list the spool: {e}"),
                })
            }
        };
        for path in files {
            let batch = match spool.read(&path) {
                Ok(batch) => batch,
                Err(reason) => {
                    let aside = spool.set_aside(&path);
                    self.report(Error::Spool {
                        reason: format!(
                            "corrupt spool file set aside as {}: {reason}",
                            aside.display()
                        ),
                    });
                    continue;
                }
            };
            if self.attempt(&batch, || ()).is_err() {
                return;
            }
            spool.remove(&path);
            let n = batch.len() as u64;
            let mut st = self.lock();
            st.sent += n;
            st.restored += n;
        }
    }

    fn finish(&self, mut st: MutexGuard<'_, State>) {
        st.worker_done = true;
        let closers = std::mem::take(&mut st.closers);
        let flushes = std::mem::take(&mut st.flushes);
        drop(st);
        closers.into_iter().for_each(|tx| {
            let _ = tx.send(());
        });
        flushes
            .into_iter()
            .for_each(|(_, tx)| drop(tx.send(Ok(()))));
    }

    /// Sends a batch with retries and records the outcome; `Err` when a
    /// batch failed for good.
    fn deliver(&self, batch: Batch) -> Result<(), Unsent> {
        match self.attempt(&batch, || ()) {
            Ok(()) => {
                self.delivered(batch.len());
                Ok(())
            }
            Err(e) => self.settle(batch, e),
        }
    }

    /// What becomes of a batch that failed every retry.
    fn settle(&self, batch: Batch, cause: TransportError) -> Result<(), Unsent> {
        if !rejects_content(&cause) {
            return Err(Unsent {
                batches: vec![batch],
                cause,
            });
        }
        if batch.len() == 1 {
            self.give_up(batch, cause);
            return Ok(());
        }
        // The server refused the content: send halves so that one bad
        // record does not take its neighbours down with it.
        let (first, second) = batch.split();
        if let Err(mut unsent) = self.deliver(first) {
            unsent.batches.push(second);
            return Err(unsent);
        }
        self.deliver(second)
    }

    /// Sends records taken from the queue in batches, and more full
    /// batches from the queue while there are some (up to `REFILL_MOST`
    /// records), writing each next batch while the one before is on its
    /// way. After a batch failed for good, the rest is kept for later, in
    /// order.
    fn deliver_all(&self, records: Vec<Pending>) {
        let mut records = records.into_iter();
        let mut refilled = 0;
        let mut sent = 0;
        let mut next = self.next_batch(&mut records, &mut refilled, &mut sent);
        while let Some(batch) = next.take() {
            let result = self.attempt(&batch, || {
                next = self.next_batch(&mut records, &mut refilled, &mut sent);
            });
            match result {
                Ok(()) => sent += batch.len(),
                Err(e) => {
                    self.delivered(std::mem::take(&mut sent));
                    if let Err(mut unsent) = self.settle(batch, e) {
                        unsent.batches.extend(next);
                        return self.keep(unsent, records.collect());
                    }
                }
            }
            if next.is_none() {
                next = self.next_batch(&mut records, &mut refilled, &mut sent);
            }
        }
        self.delivered(sent);
    }

    /// The next batch from `records`, refilled with a full batch from the
    /// queue when empty (counting what was `sent` so far under the same lock).
    fn next_batch(
        &self,
        records: &mut std::vec::IntoIter<Pending>,
        refilled: &mut usize,
        sent: &mut usize,
    ) -> Option<Batch> {
        let bs = self.config.batch_size;
        if records.len() == 0 && *refilled < REFILL_MOST {
            let mut st = self.lock();
            self.count_delivered(&mut st, std::mem::take(sent));
            // Nothing is held while the worker sends from the queue; a spill
            // request is served by the loop first.
            if st.queue.len() >= bs && st.held.is_empty() && !st.spill_requested {
                *records = st.take(bs, false).into_iter();
                *refilled += records.len();
            }
            let done = st.finished_flushes();
            drop(st);
            done.into_iter().for_each(|tx| drop(tx.send(Ok(()))));
        }
        let n = records.len().min(bs);
        (n > 0).then(|| self.batch(records.by_ref().take(n)))
    }

    /// One batch through the transport with the retry policy. `meanwhile`
    /// runs while the first try is on its way (if the transport returns
    /// before, it does not run).
    fn attempt(&self, batch: &Batch, meanwhile: impl FnOnce()) -> Result<(), TransportError> {
        let policy = &self.config.retry;
        let mut retry = 0;
        let mut meanwhile = Some(meanwhile);
        loop {
            // A panicking transport is a failed send, not a dead worker.
            let send = || {
                let request = self.transport.send_batch(&self.endpoint, batch);
                block_on_with(request, || meanwhile.take().into_iter().for_each(|w| w()))
            };
            let result = panic::catch_unwind(AssertUnwindSafe(send))
                .unwrap_or_else(|_| Err(TransportError::permanent("the transport panicked")));
            match result {
                Ok(()) => return Ok(()),
                Err(e) if e.is_retryable() && retry < policy.max_retries => {
                    let delay = policy.delay(retry, e.retry_after());
                    retry += 1;
                    let mut st = self.lock();
                    st.retried += batch.len() as u64;
                    if !self.sleep(st, delay) {
                        return Err(e);
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Sleeps `delay` unless the shutdown deadline comes first; false if it did.
    fn sleep<'a>(&'a self, mut st: MutexGuard<'a, State>, delay: Duration) -> bool {
        let until = Instant::now() + delay;
        loop {
            let now = Instant::now();
            if let Some(deadline) = st.closing {
                if now >= deadline {
                    return false;
                }
            }
            if now >= until {
                return true;
            }
            if st.spill_requested {
                st = self.spill_queue(st);
                continue;
            }
            let wake_at = st.closing.map_or(until, |d| d.min(until));
            st = self
                .wake
                .wait_timeout(st, wake_at - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    fn delivered(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut st = self.lock();
        self.count_delivered(&mut st, n);
        let done = st.finished_flushes();
        drop(st);
        done.into_iter().for_each(|tx| drop(tx.send(Ok(()))));
    }

    fn count_delivered(&self, st: &mut State, n: usize) {
        if !st.abandoned {
            st.sent += n as u64;
            st.resolved += n as u64;
        }
    }

    /// A record the server refuses: drop it, count it, report it.
    fn give_up(&self, batch: Batch, cause: TransportError) {
        let n = batch.len() as u64;
        let mut st = self.lock();
        if st.abandoned {
            return;
        }
        st.failed += n;
        st.lost += n;
        st.resolved += n;
        drop(st);
        self.report(Error::Rejected {
            records: n as usize,
            cause,
        });
    }

    /// A batch failed every retry: keep it, the batches not tried after it
    /// and the queue entries `rest` for later, in order (when closing, spool
    /// them or lose them with everything queued), and fail the flushes
    /// waiting on them.
    fn keep(&self, unsent: Unsent, rest: Vec<Pending>) {
        let Unsent { batches, cause } = unsent;
        let mut st = self.lock();
        if st.abandoned {
            return;
        }
        st.failed += batches.first().map_or(0, Batch::len) as u64;
        let error = if st.closing.is_some() {
            // Last chance: spool everything that is left.
            let batches: Vec<Batch> = batches.into_iter().chain(st.held.drain(..)).collect();
            let queued: Vec<Pending> = rest.into_iter().chain(st.queue.drain(..)).collect();
            let total = batches.iter().map(Batch::len).sum::<usize>() + queued.len();
            drop(st);
            let (spooled, lost) = self.spill(batches, queued);
            st = self.lock();
            st.spooled += spooled;
            st.lost += lost;
            st.resolved += total as u64;
            if lost == 0 {
                return;
            }
            st.lost_at_close += lost as usize;
            st.lost_cause = Some(cause.clone());
            Error::Lost {
                records: lost as usize,
                cause: Some(cause),
            }
        } else {
            for batch in batches.into_iter().rev() {
                st.held.push_front(batch);
            }
            for record in rest.into_iter().rev() {
                st.queue.push_front(record);
            }
            st.drain_to = st.resolved;
            Error::Undelivered {
                records: st.pending() as usize,
                cause,
            }
        };
        let flushes = std::mem::take(&mut st.flushes);
        drop(st);
        self.report(error.clone());
        flushes
            .into_iter()
            .for_each(|(_, tx)| drop(tx.send(Err(error.clone()))));
    }
}

/// Batches that could not be delivered, in order, the first being the one
/// that failed, and why.
struct Unsent {
    batches: Vec<Batch>,
    cause: TransportError,
}

/// Statuses by which the server says the content itself is unacceptable.
fn rejects_content(e: &TransportError) -> bool {
    matches!(e.http_status(), Some(400 | 413 | 422))
}

/// Polls two futures until one completes; true if it was the first.
async fn first_of<A: Future + Unpin, B: Future + Unpin>(mut a: A, mut b: B) -> bool {
    std::future::poll_fn(|cx| {
        if std::pin::Pin::new(&mut a).poll(cx).is_ready() {
            return Poll::Ready(true);
        }
        if std::pin::Pin::new(&mut b).poll(cx).is_ready() {
            return Poll::Ready(false);
        }
        Poll::Pending
    })
    .await
}
