//! A record on its way through the queue.

use std::sync::Arc;

use compact_str::CompactString;
use serde_json::{Map, Value};

use crate::{Level, LogRecord};

/// What the queue holds. A plain record (a message with at most data and
/// tags) is the common case: its entry is small, and its text is kept
/// inline when short, so the caller does not allocate and the worker does
/// not free memory another thread allocated (both costly with the system
/// allocator); the worker builds the record. The rest is boxed, so that the
/// queue's slots stay small.
pub(crate) enum Pending {
    Plain(Plain),
    /// Boxed: the queue's slots stay the size of a plain message.
    Full(Box<LogRecord>),
}

pub(crate) struct Plain {
    pub(crate) level: Level,
    pub(crate) message: CompactString,
    pub(crate) timestamp: i64,
    /// The client's user and session ids at the time of the call.
    pub(crate) ids: Option<Arc<Ids>>,
    pub(crate) flow_id: Option<Arc<str>>,
    /// Boxed and a boxed slice: each costs one word when absent.
    pub(crate) data: Option<Box<Map<String, Value>>>,
    pub(crate) tags: Box<[String]>,
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
        }
    }

    pub(crate) fn into_record(self) -> LogRecord {
        match self {
            Pending::Full(record) => *record,
            Pending::Plain(p) => LogRecord {
                level: p.level,
                message: p.message.into_string(),
                timestamp: Some(p.timestamp),
                user_id: p.ids.as_ref().and_then(|i| i.user_id.clone()),
                session_id: p.ids.as_ref().and_then(|i| i.session_id.clone()),
                flow_id: p.flow_id,
                data: p.data.map(|d| *d),
                tags: p.tags.into_vec(),
                step_index: (p.step_index != NO_STEP).then_some(p.step_index),
                ..LogRecord::default()
            },
        }
    }
}
