//! A record on its way through the queue.

use std::backtrace::Backtrace;
use std::sync::Arc;

use compact_str::CompactString;

use crate::{Level, LogRecord};

/// What the queue holds. A plain record (a message with at most data and
/// tags) is the common case: its entry is small, its message is kept inline
/// when short and its data and tags are one buffer of JSON text, so the
/// caller allocates at most once and the worker frees at most once (memory
/// freed on another thread than the one that allocated it is costly with
/// the system allocator); the worker writes the record straight into the
/// batch body. The rest is boxed, so that the queue's slots stay small.
pub(crate) enum Pending {
    Plain(Plain),
    /// Boxed: the queue's slots stay the size of a plain message.
    Full(Box<LogRecord>),
    /// An error record with a backtrace captured on the caller, resolved
    /// and appended to its error stack by the worker when it writes the record.
    Traced(Box<Traced>),
}

pub(crate) struct Traced {
    pub(crate) record: LogRecord,
    pub(crate) backtrace: Backtrace,
}

pub(crate) struct Plain {
    pub(crate) level: Level,
    pub(crate) message: CompactString,
    pub(crate) timestamp: i64,
    /// The client's user and session ids at the time of the call.
    pub(crate) ids: Option<Arc<Ids>>,
    pub(crate) flow_id: Option<Arc<str>>,
    /// Data and tags, rendered by the caller as JSON members
    /// (`,"data":{..},"tags":[..]`; empty, without allocation, when absent).
    pub(crate) extra: Vec<u8>,
    /// `NO_STEP` outside a flow (a plain `u32` keeps the entry small).
    pub(crate) step_index: u32,
}

pub(crate) const NO_STEP: u32 = u32::MAX;

/// A client's default user and session ids.
#[derive(Default)]
pub(crate) struct Ids {
    pub(crate) user_id: Option<Arc<str>>,
    pub(crate) session_id: Option<Arc<str>>,
}

impl Pending {
    pub(crate) fn set_step(&mut self, index: u32) {
        match self {
            Pending::Plain(p) => p.step_index = index,
            Pending::Full(r) => r.step_index = Some(index),
            Pending::Traced(t) => t.record.step_index = Some(index),
        }
    }
}
