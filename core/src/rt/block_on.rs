//! A minimal executor: poll a future on the current thread, parking
//! between wake-ups.
//!
//! `futures::executor::block_on` refuses to run inside another
//! futures-executor (it panics), and a logging SDK must never panic because
//! the application calls `flush()` or drops the client from inside one.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use crate::rt::clock;

/// Wakes a thread parked waiting for a future.
pub(crate) struct Unpark(pub(crate) Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `future` to completion on this thread.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    loop {
        if let Some(out) = block_on_timeout(future.as_mut(), clock::LONGEST) {
            return out;
        }
    }
}

/// Runs `future` on this thread until it completes, or `None` once
/// `limit` (clamped) has passed. The thread parks with a timeout rather
/// than arming a timer: a synchronous flush starts no timer thread.
pub(crate) fn block_on_timeout<F: Future>(future: F, limit: Duration) -> Option<F::Output> {
    let until = clock::after(limit);
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return Some(out);
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        // A wake before this park leaves a token, so no wake-up is lost.
        thread::park_timeout(left);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_future_that_never_ends_is_given_up_at_the_limit() {
        let start = Instant::now();
        let out = block_on_timeout(std::future::pending::<()>(), Duration::from_millis(30));
        assert_eq!(out, None);
        assert!(start.elapsed() >= Duration::from_millis(30));
    }

    #[test]
    fn a_future_woken_from_another_thread_completes() {
        let (tx, rx) = futures_channel::oneshot::channel();
        let sender = thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            tx.send(7)
        });
        assert_eq!(block_on_timeout(rx, Duration::from_secs(60)), Some(Ok(7)));
        assert_eq!(block_on(async { 8 }), 8);
        sender.join().unwrap().unwrap();
    }
}
