//! The queue between callers and the network, and the worker thread that
//! drains it.
//!
//! Callers only lock the queue, push and (rarely) wake the worker: no I/O,
//! no waiting. The worker forms batches in queue order, sends them through the
//! transport with retries, and keeps a batch that still fails (`held`) to send
//! it first next time, so order holds and nothing is sent twice after a success.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::Poll;
use std::thread;
use std::time::{Duration, Instant};

use futures_channel::oneshot;

use crate::validate::limits;
use crate::{
    Batch, Config, Endpoint, Error, LogRecord, OverflowPolicy, Stats, Transport, TransportError,
    ValidationError, Violation,
};

type Reply = oneshot::Sender<Result<(), Error>>;

/// How long the worker waits for more records after sending a full batch,
/// before it goes idle and asks producers to wake it.
const LINGER: Duration = Duration::from_millis(2);

pub(crate) struct Pipeline {
    state: Mutex<State>,
    /// Wakes the worker (batch ready, flush, close) and lets it sleep with a deadline.
    wake: Condvar,
    config: Config,
    endpoint: Endpoint,
    transport: Arc<dyn Transport>,
    invalid: AtomicU64,
}

#[derive(Default)]
struct State {
    queue: VecDeque<LogRecord>,
    /// A batch that failed every retry; it goes first on the next attempt.
    held: Option<Batch>,
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
    /// What shutdown could not deliver, returned by `close`.
    close_error: Option<Error>,
    in_overflow_burst: bool,
    accepted: u64,
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
}

impl Pipeline {
    pub(crate) fn start(
        config: Config,
        endpoint: Endpoint,
        transport: Arc<dyn Transport>,
    ) -> (Arc<Self>, thread::ThreadId) {
        let pipeline = Arc::new(Pipeline {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            config,
            endpoint,
            transport,
            invalid: AtomicU64::new(0),
        });
        let worker = Arc::clone(&pipeline);
        let handle = thread::Builder::new()
            .name("timber-worker".into())
            .spawn(move || worker.run())
            .expect("spawn the timber worker thread");
        (pipeline, handle.thread().id())
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

    pub(crate) fn report(&self, error: Error) {
        (self.config.on_error)(&error);
    }

    pub(crate) fn count_invalid(&self) {
        self.invalid.fetch_add(1, Ordering::Relaxed);
    }

    /// Queues a validated record. With `step`, assigns the flow's next step
    /// index under the queue lock, so queue order is step order and a
    /// refused record consumes no step.
    pub(crate) fn push(
        &self,
        mut record: LogRecord,
        step: Option<&AtomicU32>,
    ) -> Result<(), Error> {
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
            if self.config.overflow == OverflowPolicy::DropNewest {
                drop(st);
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
            record.step_index = Some(index);
            counter.store(index + 1, Ordering::Relaxed);
        }
        st.queue.push_back(record);
        st.entered += 1;
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
            let deadline = *st
                .closing
                .get_or_insert_with(|| Instant::now() + self.config.shutdown_timeout);
            if st.worker_done {
                let _ = tx.send(());
            } else {
                st.closers.push(tx);
            }
            deadline
        };
        self.wake.notify_one();
        async move {
            // Grace for the worker to record its last outcome after the deadline.
            let deadline = deadline + Duration::from_millis(50);
            let done = pin!(rx);
            let timer = pin!(futures_timer::Delay::new(
                deadline.saturating_duration_since(Instant::now())
            ));
            let finished_in_time = first_of(done, timer).await;
            let mut st = self.lock();
            if !finished_in_time && !st.worker_done {
                st.abandoned = true;
                let lost = st.pending();
                st.lost += lost;
                st.resolved = st.entered;
                st.held = None;
                st.queue.clear();
                drop(st);
                let err = Error::Lost {
                    records: lost as usize,
                    cause: None,
                };
                self.report(err.clone());
                return Err(err);
            }
            st.close_error.clone().map_or(Ok(()), Err)
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
                    }
                    let draining = st.resolved < st.drain_to || st.closing.is_some();
                    if draining {
                        if let Some(held) = st.held.take() {
                            drop(st);
                            self.deliver(held);
                            st = self.lock();
                            continue;
                        }
                    }
                    let full = st.queue.len() >= self.config.batch_size;
                    if st.held.is_none() && (full || (draining && !st.queue.is_empty())) {
                        let n = st.queue.len().min(self.config.batch_size);
                        if st.queue.len() - n < self.config.queue_capacity {
                            st.in_overflow_burst = false;
                        }
                        linger = full;
                        let records: Vec<LogRecord> = st.queue.drain(..n).collect();
                        break records;
                    }
                    // Nothing to send now: every flush is either done or failed.
                    let resolved = st.resolved;
                    let done: Vec<Reply> = extract(&mut st.flushes, |(t, _)| *t <= resolved);
                    if st.closing.is_some() && st.held.is_none() && st.queue.is_empty() {
                        self.finish(st);
                        return;
                    }
                    // Under a steady stream, linger instead of asking producers
                    // to wake us: they then never pay for a wake-up syscall, and
                    // one wake-up sends many batches.
                    let wait = if std::mem::take(&mut linger) {
                        LINGER
                    } else {
                        st.worker_idle = st.held.is_none();
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
            let mut records = records;
            records.iter_mut().for_each(|r| self.stamp(r));
            self.deliver(Batch::new(records));
        }
    }

    /// Fills the configuration's fields on the worker rather than on the
    /// caller: cheaper calls, and the shared strings' reference counts are
    /// touched by one thread only.
    fn stamp(&self, record: &mut LogRecord) {
        let config = &self.config;
        record.source.get_or_insert_with(|| config.source.clone());
        record.environment.get_or_insert(config.environment);
        if record.version.is_none() {
            record.version.clone_from(&config.version);
        }
        if record.dataset.is_none() {
            record.dataset.clone_from(&config.dataset);
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

    /// Sends one batch with retries, then records the outcome.
    fn deliver(&self, batch: Batch) {
        let policy = &self.config.retry;
        let mut retry = 0;
        let outcome = loop {
            let result =
                crate::block_on::block_on(self.transport.send_batch(&self.endpoint, &batch));
            match result {
                Ok(()) => break Ok(()),
                Err(e) if e.is_retryable() && retry < policy.max_retries => {
                    let delay = policy.delay(retry, e.retry_after());
                    retry += 1;
                    let mut st = self.lock();
                    st.retried += batch.records.len() as u64;
                    if !self.sleep(st, delay) {
                        break Err(e);
                    }
                }
                Err(e) => break Err(e),
            }
        };
        match outcome {
            Ok(()) => self.delivered(batch.records.len()),
            Err(e) if rejects_content(&e) && batch.records.len() > 1 => {
                // The server refused the content: send halves so that one bad
                // record does not take its neighbours down with it.
                let mut first = batch.records;
                let second = first.split_off(first.len() / 2);
                self.deliver(Batch::new(first));
                self.deliver(Batch::new(second));
            }
            Err(e) if rejects_content(&e) => self.give_up(batch, e),
            Err(e) => self.keep(batch, e),
        }
    }

    /// Sleeps `delay` unless the shutdown deadline comes first; false if it did.
    fn sleep(&self, mut st: MutexGuard<'_, State>, delay: Duration) -> bool {
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
            let wake_at = st.closing.map_or(until, |d| d.min(until));
            st = self
                .wake
                .wait_timeout(st, wake_at - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    fn delivered(&self, n: usize) {
        let mut st = self.lock();
        if st.abandoned {
            return;
        }
        st.sent += n as u64;
        st.resolved += n as u64;
        let resolved = st.resolved;
        let done = extract(&mut st.flushes, |(t, _)| *t <= resolved);
        drop(st);
        done.into_iter().for_each(|tx| drop(tx.send(Ok(()))));
    }

    /// A record the server refuses: drop it, count it, report it.
    fn give_up(&self, batch: Batch, cause: TransportError) {
        let n = batch.records.len() as u64;
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

    /// A batch that failed every retry: keep it (or, when closing, lose it
    /// and everything behind it) and fail the flushes waiting on it.
    fn keep(&self, batch: Batch, cause: TransportError) {
        let n = batch.records.len() as u64;
        let mut st = self.lock();
        if st.abandoned {
            return;
        }
        st.failed += n;
        let error = if st.closing.is_some() {
            let lost = n + st.queue.len() as u64;
            st.queue.clear();
            st.lost += lost;
            st.resolved += lost;
            let lost = Error::Lost {
                records: lost as usize,
                cause: Some(cause),
            };
            st.close_error = Some(lost.clone());
            lost
        } else {
            st.held = Some(batch);
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

/// Statuses by which the server says the content itself is unacceptable.
fn rejects_content(e: &TransportError) -> bool {
    matches!(e.http_status(), Some(400 | 413 | 422))
}

fn extract<T>(items: &mut Vec<(u64, T)>, pick: impl Fn(&(u64, T)) -> bool) -> Vec<T> {
    let (picked, kept) = std::mem::take(items).into_iter().partition(|i| pick(i));
    *items = kept;
    picked.into_iter().map(|(_, t)| t).collect()
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
