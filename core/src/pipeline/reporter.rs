//! [`Reporter`]: the worker's errors reach `on_error` on a thread of their
//! own, so that a callback that blocks (a full pipe, a lock, a network
//! call) never stops delivery, and with it every `flush()`.
//!
//! The worker waits for each report up to [`REPORT_WAIT`], so that with a
//! callback that returns, an error is reported before the flush that met it
//! returns. While a callback is still busy past that, the worker waits for
//! nothing: later errors queue (at most [`BACKLOG`]) or, past that, are
//! counted in `Stats::unreported`.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use crate::config::settings::OnError;
use crate::error::Error;
use crate::rt::{clock, threads};

/// How long the worker waits for one report before going on without it.
pub(crate) const REPORT_WAIT: Duration = Duration::from_secs(1);

/// Errors waiting for a busy callback; later ones are counted, not kept.
const BACKLOG: usize = 256;

pub(crate) struct Reporter {
    on_error: OnError,
    /// Started at the first report: a client that never fails starts no thread.
    errors: OnceLock<Option<SyncSender<Error>>>,
    reported: Arc<Reported>,
    /// Errors neither reported nor queued for the callback.
    pub(crate) unreported: AtomicU64,
}

/// How many errors were handed to the thread, and how many it reported.
#[derive(Default)]
struct Reported {
    counts: Mutex<Counts>,
    changed: Condvar,
}

#[derive(Default)]
struct Counts {
    handed: u64,
    done: u64,
    /// The callback waits for the pipeline (it flushes or closes): the
    /// worker must not wait for the callback meanwhile.
    released: bool,
}

impl Reported {
    fn lock(&self) -> MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

thread_local! {
    /// The reporter whose thread this is (its address), or 0.
    static REPORTER_OF: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

impl Reporter {
    pub(crate) fn new(on_error: OnError) -> Self {
        Reporter {
            on_error,
            errors: OnceLock::new(),
            reported: Arc::default(),
            unreported: AtomicU64::new(0),
        }
    }

    /// Hands `error` to the reporting thread; waits for it only while the
    /// callback keeps up.
    pub(crate) fn report(&self, error: Error) {
        let Some(errors) = self.errors.get_or_init(|| self.start()) else {
            // No thread could be started: report here rather than not at all.
            return call(&self.on_error, &error);
        };
        let mut counts = self.reported.lock();
        let keeping_up = counts.handed == counts.done;
        match errors.try_send(error) {
            Ok(()) => counts.handed += 1,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.unreported.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
        if !keeping_up {
            return;
        }
        let handed = counts.handed;
        counts.released = false;
        let until = clock::after(REPORT_WAIT);
        while counts.done < handed && !counts.released {
            let left = until.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return;
            }
            counts = self
                .reported
                .changed
                .wait_timeout(counts, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Called before the pipeline waits for its worker: on this reporter's
    /// thread (a callback that flushes or closes the client), the worker
    /// stops waiting for the callback, which waits for the worker.
    pub(crate) fn release_if_on_its_thread(&self) {
        if REPORTER_OF.try_with(std::cell::Cell::get).unwrap_or(0) == self.id() {
            self.reported.lock().released = true;
            self.reported.changed.notify_all();
        }
    }

    fn id(&self) -> usize {
        Arc::as_ptr(&self.reported) as usize
    }

    fn start(&self) -> Option<SyncSender<Error>> {
        let (tx, rx) = sync_channel::<Error>(BACKLOG);
        let on_error = Arc::clone(&self.on_error);
        let reported = Arc::clone(&self.reported);
        let id = self.id();
        // Ends when the pipeline (the sender) is dropped.
        threads::spawn("report", move || {
            let _ = REPORTER_OF.try_with(|of| of.set(id));
            for error in rx {
                call(&on_error, &error);
                reported.lock().done += 1;
                reported.changed.notify_all();
            }
        })
        .ok()?;
        Some(tx)
    }
}

/// Calls `on_error`: a panicking callback is contained, and a callback
/// whose own logging fails is not called again from inside itself (the
/// counters still count it).
pub(crate) fn call(on_error: &OnError, error: &Error) {
    thread_local! {
        static IN_CALLBACK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if IN_CALLBACK
        .try_with(|inside| inside.replace(true))
        .unwrap_or(true)
    {
        return;
    }
    let _ = panic::catch_unwind(AssertUnwindSafe(|| on_error(error)));
    let _ = IN_CALLBACK.try_with(|inside| inside.set(false));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::channel;

    #[test]
    fn a_callback_that_keeps_up_has_reported_before_report_returns() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let reporter = Reporter::new(Arc::new(move |e: &Error| {
            log.lock().unwrap().push(e.to_string());
        }));
        reporter.report(Error::Closed);
        reporter.report(Error::Closed);
        assert_eq!(seen.lock().unwrap().len(), 2);
    }

    #[test]
    fn a_callback_that_blocks_holds_the_caller_once_and_briefly() {
        let (release, blocked) = channel::<()>();
        let blocked = Mutex::new(blocked);
        let reporter = Reporter::new(Arc::new(move |_: &Error| {
            let _ = blocked.lock().unwrap().recv();
        }));
        // One wait of REPORT_WAIT, then none: the backlog fills, the rest
        // is counted (a worker that waited each time would hang here).
        for _ in 0..BACKLOG + 10 {
            reporter.report(Error::Closed);
        }
        assert!(reporter.unreported.load(Ordering::Relaxed) >= 9);
        drop(release);
    }
}
