//! Every running pipeline of the process, for its last words: when the
//! process ends without its clients being closed (`std::process::exit`, a
//! panic that aborts, a signal), what they queued is delivered within each
//! one's `shutdown_timeout`.

use std::cell::Cell;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use crate::pipeline::shared::Pipeline;
use crate::rt::block_on::block_on_timeout;

static LIVE: Mutex<Vec<Weak<Pipeline>>> = Mutex::new(Vec::new());

thread_local! {
    /// The pipeline whose worker this thread is (its address), so that
    /// last words on that thread do not wait for the worker they stop.
    /// No destructor: readable while the thread's locals are torn down.
    static WORKER_OF: Cell<usize> = const { Cell::new(0) };
}

/// Adds `pipeline` to the process's live ones (and forgets ended ones).
pub(crate) fn register(pipeline: &Arc<Pipeline>) {
    let mut live = LIVE.lock().unwrap_or_else(PoisonError::into_inner);
    live.retain(|p| p.strong_count() > 0);
    live.push(Arc::downgrade(pipeline));
}

/// Marks the current thread as `pipeline`'s worker.
pub(crate) fn mark_worker(pipeline: &Pipeline) {
    let _ = WORKER_OF.try_with(|of| of.set(address(pipeline)));
}

/// The pipeline the current thread works for, if any (0 if none).
pub(crate) fn worker_of_current_thread() -> usize {
    WORKER_OF.try_with(Cell::get).unwrap_or(0)
}

fn address(pipeline: &Pipeline) -> usize {
    std::ptr::from_ref(pipeline) as usize
}

/// Closes every live pipeline but `skip`'s (an address from
/// [`worker_of_current_thread`]): all start closing at once, then each is
/// waited for up to its `shutdown_timeout` (the longest of them in all).
/// Returns how many were closed here.
pub(crate) fn close_all(skip: usize) -> usize {
    let live: Vec<Arc<Pipeline>> = LIVE
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .filter_map(Weak::upgrade)
        .filter(|p| address(p) != skip && !p.is_closed())
        .collect();
    let closing: Vec<_> = live
        .iter()
        .map(|p| {
            let timeout = p.config().shutdown_timeout;
            (p.close(timeout), timeout)
        })
        .collect();
    let count = closing.len();
    for (close, timeout) in closing {
        // The close gives up at its timeout; the margin only covers the
        // last outcome's bookkeeping.
        let _ = block_on_timeout(close, timeout.saturating_add(Duration::from_millis(200)));
    }
    count
}
