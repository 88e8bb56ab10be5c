//! [`Pipeline`]: what a client's handles and its worker share.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::{self, Thread};

use crate::config::settings::Config;
use crate::error::Error;
use crate::pipeline::reporter::{self, Reporter};
use crate::pipeline::spool::Spool;
use crate::pipeline::state::State;
use crate::pipeline::stats::Stats;
use crate::transport::batch::Resource;
use crate::transport::port::{Endpoint, Transport};

pub(crate) struct Pipeline {
    pub(crate) state: Mutex<State>,
    /// Callers waiting for room in the queue (`OverflowPolicy::Block`).
    pub(crate) room: Condvar,
    pub(crate) config: Config,
    /// What every batch of this client carries.
    pub(crate) resource: Arc<Resource>,
    pub(crate) endpoint: Arc<Endpoint>,
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) spool: Option<Spool>,
    /// The worker thread, to wake it.
    pub(crate) worker: OnceLock<Thread>,
    pub(crate) invalid: AtomicU64,
    /// Records sent again by the retry policy (`Stats::retried`).
    pub(crate) retried: Arc<AtomicU64>,
    /// The worker's way to `on_error`.
    pub(crate) reporter: Reporter,
    /// Records an earlier run left in the journal, recovered at start.
    pub(crate) recovered: u64,
    /// Journal segments of earlier runs that ended in a torn frame.
    pub(crate) torn: u64,
}

impl Pipeline {
    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic in a callback must not wedge logging: the state stays
        // consistent because it is only changed in sections that cannot panic.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn wake_worker(&self) {
        if let Some(worker) = self.worker.get() {
            worker.unpark();
        }
    }

    pub(crate) fn on_worker_thread(&self) -> bool {
        self.worker
            .get()
            .is_some_and(|w| w.id() == thread::current().id())
    }

    /// Calls `on_error`: from the worker, on the reporting thread (a
    /// callback that blocks must not stop delivery); from a caller, on the
    /// caller's thread.
    pub(crate) fn report(&self, error: Error) {
        if self.on_worker_thread() {
            self.reporter.report(error);
        } else {
            reporter::call(&self.config.on_error, &error);
        }
    }

    pub(crate) fn count_invalid(&self) {
        self.invalid.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn stats(&self) -> Stats {
        let st = self.lock();
        let mut stats = st.accounts.stats(
            st.queue.entered(),
            self.retried.load(Ordering::Relaxed),
            self.invalid.load(Ordering::Relaxed),
            self.reporter.unreported.load(Ordering::Relaxed),
        );
        stats.recovered = self.recovered;
        stats.torn = self.torn;
        stats
    }
}
