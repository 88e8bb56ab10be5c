//! The fields most records lack, kept in a box of their own so that a
//! plain record stays small; and the recycling of those boxes, so that a
//! record with a trace context (every event inside a span) allocates no
//! box on the caller and frees none on the worker.

use std::backtrace::Backtrace;
use std::cell::Cell;
use std::sync::Arc;

use crate::record::trace_context::TraceContext;

#[derive(Clone, Default, PartialEq)]
pub(crate) struct Details {
    pub(crate) request_id: Option<String>,
    pub(crate) error_name: Option<String>,
    pub(crate) error_stack: Option<String>,
    pub(crate) ip_address: Option<String>,
    pub(crate) country: Option<String>,
    pub(crate) backtrace: Option<PendingBacktrace>,
    pub(crate) trace: Option<TraceContext>,
}

/// A backtrace captured by the caller, resolved by the worker (symbols are
/// slow to look up).
#[derive(Clone)]
pub(crate) struct PendingBacktrace(pub(crate) Arc<Backtrace>);

impl PartialEq for PendingBacktrace {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

thread_local! {
    static SPARE: Cell<Option<Box<Details>>> = const { Cell::new(None) };
}

/// Empty details for a record of this thread: its spare box, or a new one.
pub(crate) fn take() -> Box<Details> {
    SPARE
        .try_with(Cell::take)
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Gives this thread a spare box from `pool` (emptied there) if it has none.
// The boxes themselves are what is recycled.
#[allow(clippy::vec_box)]
pub(crate) fn restock(pool: &mut Vec<Box<Details>>) {
    let _ = SPARE.try_with(|mine| {
        let kept = mine.take();
        mine.set(kept.or_else(|| pool.pop()));
    });
}
