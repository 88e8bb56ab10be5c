//! Delivery: batches on their way through the transport, up to
//! `max_in_flight` at once, each under the retry policy, what becomes of a
//! batch that fails, and the calls made for callers (raw bodies, server
//! flows), under the same policy.
//!
//! The window is polled by the worker thread, so the futures in it need not
//! be `Send`; a transport that panics fails its call instead of the worker.

use std::cell::Cell;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::pipeline::job::Job;
use crate::pipeline::request::Request;
use crate::transport::error::TransportError;
use crate::transport::port::{Endpoint, RawRequest, Transport};
use crate::transport::retry::{retrying, RetryPolicy};

/// What every delivery needs.
pub(crate) struct Sender {
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) endpoint: Arc<Endpoint>,
    pub(crate) policy: RetryPolicy,
    /// Records sent again by the retry policy (`Stats::retried`).
    pub(crate) retried: Arc<AtomicU64>,
}

type Send = Pin<Box<dyn Future<Output = Result<(), TransportError>>>>;
type Call = Pin<Box<dyn Future<Output = ()>>>;

struct Slot {
    /// The batch's place in the order of sending.
    index: u64,
    job: Job,
    /// The batch failed an attempt and is being retried.
    troubled: Rc<Cell<bool>>,
    send: Send,
    sent_at: Instant,
}

/// The batches in flight, and the calls made for callers.
pub(crate) struct Window {
    slots: Vec<Slot>,
    /// Calls for callers: they answer their caller themselves, and neither
    /// count towards `max` nor hold batches back.
    calls: Vec<Call>,
    max: usize,
    /// Batches ever sent: the next one's place in the order of sending.
    sent: u64,
    sender: Rc<Sender>,
    /// Shutdown's deadline: the retries left share the time left.
    deadline: Rc<Cell<Option<Instant>>>,
    /// How long the last batch delivered took, retries included.
    round_trip: Duration,
}

impl Window {
    pub(crate) fn new(max: usize, sender: Sender) -> Self {
        Window {
            slots: Vec::with_capacity(max),
            calls: Vec::new(),
            max: max.max(1),
            sent: 0,
            sender: Rc::new(sender),
            deadline: Rc::new(Cell::new(None)),
            round_trip: Duration::ZERO,
        }
    }

    /// How long the last batch delivered took (zero before the first).
    pub(crate) fn round_trip(&self) -> Duration {
        self.round_trip
    }

    /// Whether another batch may go now: it would be within `max` of the
    /// oldest batch still in flight (a slow batch is overtaken by at most
    /// `max - 1` others), and no batch in flight is failing (after a
    /// failure, nothing overtakes the batch that failed).
    pub(crate) fn has_room(&self) -> bool {
        let oldest = self
            .slots
            .iter()
            .map(|s| s.index)
            .min()
            .unwrap_or(self.sent);
        self.sent - oldest < self.max as u64 && !self.is_troubled()
    }

    /// Whether no batch is in flight.
    pub(crate) fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Whether nothing at all is in flight.
    pub(crate) fn is_idle(&self) -> bool {
        self.slots.is_empty() && self.calls.is_empty()
    }

    /// Whether a batch in flight failed an attempt.
    pub(crate) fn is_troubled(&self) -> bool {
        self.slots.iter().any(|s| s.troubled.get())
    }

    /// The batches on their way.
    pub(crate) fn jobs(&self) -> impl Iterator<Item = &Job> {
        self.slots.iter().map(|s| &s.job)
    }

    /// Sends a batch. A `probe` counts as failing from the start: nothing
    /// else goes until it succeeds (the first try after the service failed).
    pub(crate) fn send(&mut self, job: Job, probe: bool) {
        let troubled = Rc::new(Cell::new(probe));
        let (sender, deadline, batch) = (
            self.sender.clone(),
            self.deadline.clone(),
            job.batch.clone(),
        );
        let failing = troubled.clone();
        let send = Box::pin(async move {
            let records = batch.len() as u64;
            retrying(
                &sender.policy,
                &|| deadline.get(),
                || sender.transport.send_batch(&sender.endpoint, &batch),
                |_| {
                    failing.set(true);
                    sender.retried.fetch_add(records, Ordering::Relaxed);
                },
            )
            .await
        });
        self.slots.push(Slot {
            index: self.sent,
            job,
            troubled,
            send,
            sent_at: Instant::now(),
        });
        self.sent += 1;
    }

    /// Makes a call for a caller, under the retry policy; its outcome goes
    /// to the caller (who stops waiting if the call is dropped).
    pub(crate) fn call(&mut self, request: Request) {
        let (sender, deadline) = (self.sender.clone(), self.deadline.clone());
        self.calls.push(Box::pin(async move {
            let hurry = || deadline.get();
            match request {
                Request::Raw {
                    body,
                    format,
                    options,
                    idempotency_key,
                    reply,
                } => {
                    let raw = RawRequest {
                        body: &body,
                        format,
                        options: &options,
                        idempotency_key: &idempotency_key,
                    };
                    let send = || sender.transport.ingest_raw(&sender.endpoint, raw);
                    let _ = reply.send(retrying(&sender.policy, &hurry, send, |_| ()).await);
                }
                Request::Flow { name, reply } => {
                    let create = || sender.transport.create_flow(&sender.endpoint, &name);
                    let _ = reply.send(retrying(&sender.policy, &hurry, create, |_| ()).await);
                }
            }
        }));
    }

    /// Polls every batch in flight; returns those that finished, in the
    /// order they were sent. Calls for callers are polled too.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Vec<(Job, Result<(), TransportError>)> {
        // A panicking transport drops the call: its caller hears `Closed`.
        self.calls.retain_mut(|call| {
            panic::catch_unwind(AssertUnwindSafe(|| call.as_mut().poll(cx).is_pending()))
                .unwrap_or(false)
        });
        let mut done = Vec::new();
        let mut i = 0;
        while i < self.slots.len() {
            let send = &mut self.slots[i].send;
            // A panicking transport is a failed send, not a dead worker.
            let poll = panic::catch_unwind(AssertUnwindSafe(|| send.as_mut().poll(cx)))
                .unwrap_or_else(|_| {
                    Poll::Ready(Err(TransportError::permanent("the transport panicked")))
                });
            match poll {
                Poll::Ready(result) => {
                    // Dropping the future first leaves the job its batch alone.
                    let Slot { job, sent_at, .. } = self.slots.remove(i);
                    if result.is_ok() {
                        self.round_trip = sent_at.elapsed();
                    }
                    done.push((job, result));
                }
                Poll::Pending => i += 1,
            }
        }
        done
    }

    /// Shutdown: from now on, the retries left of each batch share the
    /// time left before `deadline`. True the first time: then poll again,
    /// to let the batches waiting to retry know.
    pub(crate) fn hurry(&self, deadline: Instant) -> bool {
        self.deadline.replace(Some(deadline)).is_none()
    }

    /// Stops every delivery; returns their jobs (sent or not, their keys
    /// let a later resend be recognized). Calls for callers end unanswered.
    pub(crate) fn cancel(&mut self) -> Vec<Job> {
        self.calls.clear();
        self.slots.drain(..).map(|slot| slot.job).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::task::Waker;
    use std::time::Duration;

    use super::*;
    use crate::pipeline::job::{verdict, Verdict};
    use crate::record::environment::Environment;
    use crate::record::level::Level;
    use crate::record::record::Record;
    use crate::transport::api_key::ApiKey;
    use crate::transport::batch::{Batch, Resource};

    use crate::transport::double::{Fault, MockTransport};

    fn window(mock: &MockTransport, max: usize) -> Window {
        Window::new(
            max,
            Sender {
                transport: Arc::new(mock.clone()),
                endpoint: Arc::new(Endpoint {
                    base_url: "https://example.test".into(),
                    api_key: ApiKey::new("k"),
                }),
                policy: RetryPolicy {
                    initial_delay: Duration::from_millis(1),
                    ..RetryPolicy::default()
                },
                retried: Arc::default(),
            },
        )
    }

    fn job(first: u64, n: usize) -> Job {
        let records = (0..n)
            .map(|i| Record::new(Level::Info, format!("m{}", first + i as u64)))
            .collect();
        let resource = Resource::new("s", Environment::Production, None);
        Job::live(Batch::new(resource, records), first)
    }

    /// Polls until every batch in flight finished.
    fn run(window: &mut Window) -> Vec<(Job, Result<(), TransportError>)> {
        let mut cx = Context::from_waker(Waker::noop());
        let mut done = Vec::new();
        while !window.is_empty() {
            done.extend(window.poll(&mut cx));
            std::thread::sleep(Duration::from_millis(1));
        }
        done
    }

    #[test]
    fn several_batches_are_in_flight_at_once_up_to_the_bound() {
        let mock = MockTransport::new();
        mock.fail_next(3, Fault::Delay(Duration::from_millis(50)));
        let mut w = window(&mock, 3);
        let mut cx = Context::from_waker(Waker::noop());
        for i in 0..3 {
            assert!(w.has_room());
            w.send(job(i * 2, 2), false);
        }
        assert!(!w.has_room(), "three in flight fill a window of three");
        assert!(
            w.poll(&mut cx).is_empty(),
            "all three are waiting on the mock"
        );
        assert_eq!(
            mock.attempts(),
            3,
            "all three were sent before any answered"
        );
        assert_eq!(w.jobs().filter_map(Job::first).min(), Some(0));
        let done = run(&mut w);
        assert!(done.iter().all(|(_, r)| r.is_ok()));
        assert_eq!(mock.count(), 6);
    }

    #[test]
    fn a_slow_batch_is_overtaken_by_at_most_the_window_less_one() {
        let mock = MockTransport::new();
        mock.fail_next(1, Fault::Delay(Duration::from_millis(300)));
        let mut w = window(&mock, 3);
        let mut cx = Context::from_waker(Waker::noop());
        w.send(job(0, 1), false);
        w.send(job(1, 1), false);
        w.send(job(2, 1), false);
        let done = w.poll(&mut cx);
        assert_eq!(done.len(), 2, "the two after the slow one are through");
        assert!(
            !w.has_room(),
            "a fourth would overtake the slow one by three"
        );
        let done = run(&mut w);
        assert_eq!(done[0].0.first(), Some(0));
        assert!(w.has_room());
    }

    #[test]
    fn a_failing_batch_closes_the_window_until_it_succeeds() {
        let mock = MockTransport::new();
        mock.fail_next(1, Fault::Unavailable);
        let mut w = window(&mock, 4);
        let mut cx = Context::from_waker(Waker::noop());
        w.send(job(0, 1), false);
        assert!(w.poll(&mut cx).is_empty(), "retrying after a 503");
        assert!(w.is_troubled() && !w.has_room());
        let done = run(&mut w);
        assert!(done[0].1.is_ok());
        assert_eq!(w.sender.retried.load(Ordering::Relaxed), 1);
        assert!(w.has_room());

        w.send(job(1, 1), true);
        assert!(!w.has_room(), "a probe goes alone");
    }

    #[test]
    fn a_panicking_transport_fails_its_batch_only() {
        let mock = MockTransport::new();
        mock.fail_next(1, Fault::Panic);
        let mut w = window(&mock, 2);
        w.send(job(0, 2), false);
        w.send(job(2, 2), false);
        let done = run(&mut w);
        let failed: Vec<_> = done.iter().filter(|(_, r)| r.is_err()).collect();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].0.first(), Some(0));
        assert_eq!(mock.count(), 2);
    }

    #[test]
    fn refused_content_is_split_a_refused_record_given_up_the_rest_held() {
        let refused = || TransportError::refused("too large");
        let Verdict::Split(a, b) = verdict(job(10, 5), refused()) else {
            panic!("a batch of five is split")
        };
        assert_eq!(
            (a.first(), a.len(), b.first(), b.len()),
            (Some(10), 2, Some(12), 3)
        );
        assert!(matches!(
            verdict(a, TransportError::retryable("x")),
            Verdict::Hold(..)
        ));
        assert!(matches!(verdict(job(0, 1), refused()), Verdict::GiveUp(..)));
        assert!(matches!(
            verdict(job(0, 2), TransportError::permanent("key")),
            Verdict::Hold(..)
        ));
    }

    #[test]
    fn a_hurried_window_retries_within_the_deadline() {
        let mock = MockTransport::new();
        mock.fail_next(10, Fault::Unavailable);
        let mut w = window(&mock, 1);
        w.sender = Rc::new(Sender {
            policy: RetryPolicy {
                initial_delay: Duration::from_secs(3600),
                ..w.sender.policy.clone()
            },
            transport: w.sender.transport.clone(),
            endpoint: w.sender.endpoint.clone(),
            retried: w.sender.retried.clone(),
        });
        w.send(job(0, 1), false);
        let mut cx = Context::from_waker(Waker::noop());
        assert!(
            w.poll(&mut cx).is_empty(),
            "waiting an hour before its retry"
        );
        assert!(w.hurry(Instant::now() + Duration::from_millis(200)));
        let done = run(&mut w);
        assert!(done[0].1.is_err());
        assert!((2..=4).contains(&mock.attempts()), "{}", mock.attempts());
    }
}
