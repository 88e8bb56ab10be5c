//! A record on its way through the queue.

use std::backtrace::Backtrace;
use std::sync::Arc;

use compact_str::CompactString;
use smallvec::SmallVec;

use serde_json::Value;

use crate::{spare, Level, LogRecord};

/// What the queue holds. A plain record (a message with at most data and
/// tags) is the common case: its message is kept inline when short and its
/// ids, data and tags are JSON text inline in the entry when short too, so
/// that the caller allocates nothing and the worker frees nothing (memory
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
    pub(crate) flow_id: Option<Arc<str>>,
    /// The client's user and session ids at the time of the call, data and
    /// tags, rendered by the caller as JSON members
    /// (`,"userId":"..","data":{..},"tags":[..]`; empty when absent).
    pub(crate) extra: Extra,
    /// `NO_STEP` outside a flow (a plain `u32` keeps the entry small).
    pub(crate) step_index: u32,
}

pub(crate) const NO_STEP: u32 = u32::MAX;

/// A plain record's members, inline in the queue's slot when they fit
/// (most do): the caller then allocates nothing and the worker frees
/// nothing, and a burst's records reuse the queue's memory rather than
/// the allocator's, which the system allocator returns to the kernel
/// between bursts.
pub(crate) type Extra = SmallVec<[u8; INLINE_EXTRA]>;

/// Room for a typical record's ids, data and tags.
const INLINE_EXTRA: usize = 120;

/// `members` then `rendered` (a buffer from [`spare`], kept back as this
/// thread's spare when the two fit inline).
pub(crate) fn extra(members: &[u8], mut rendered: Vec<u8>) -> Extra {
    if members.len() + rendered.len() <= INLINE_EXTRA {
        let mut extra = Extra::new();
        extra.extend_from_slice(members);
        extra.extend_from_slice(&rendered);
        if rendered.capacity() > 0 {
            spare::keep(rendered);
        }
        return extra;
    }
    if !members.is_empty() {
        rendered.splice(0..0, members.iter().copied());
    }
    Extra::from_vec(rendered)
}

/// A client's default user and session ids.
pub(crate) struct Ids {
    pub(crate) user_id: Option<Arc<str>>,
    pub(crate) session_id: Option<Arc<str>>,
    /// Both as a plain record's first JSON members, rendered once here:
    /// a record copies them instead of sharing the `Arc` with the worker
    /// (a count that two cores update is slow).
    pub(crate) members: Box<[u8]>,
}

impl Ids {
    pub(crate) fn new(user_id: Option<Arc<str>>, session_id: Option<Arc<str>>) -> Self {
        let mut members = Vec::new();
        if let Some(user) = &user_id {
            crate::encode::member_str(&mut members, "userId", user);
        }
        if let Some(session) = &session_id {
            crate::encode::member_str(&mut members, "sessionId", session);
        }
        Ids {
            user_id,
            session_id,
            members: members.into(),
        }
    }
}

/// Room for a record's punctuation, level, field names, timestamp and step.
const FRAME_BYTES: usize = 96;

impl Pending {
    /// About how many bytes the record takes as JSON without the client's
    /// own fields (source, environment, version, dataset): what the queue's
    /// and a batch's byte bounds count.
    pub(crate) fn size(&self) -> usize {
        let len = |s: &Option<Arc<str>>| s.as_deref().map_or(0, str::len);
        match self {
            Pending::Plain(p) => FRAME_BYTES + p.message.len() + p.extra.len() + len(&p.flow_id),
            Pending::Full(r) => record_size(r),
            // The worker appends the resolved frames, cut to the stack limit.
            Pending::Traced(t) => record_size(&t.record) + crate::validate::limits::ERROR_STACK,
        }
    }

    pub(crate) fn set_step(&mut self, index: u32) {
        match self {
            Pending::Plain(p) => p.step_index = index,
            Pending::Full(r) => r.step_index = Some(index),
            Pending::Traced(t) => t.record.step_index = Some(index),
        }
    }
}

/// About how long a whole record is as JSON (without the client's fields).
fn record_size(r: &LogRecord) -> usize {
    let len = |s: &Option<Arc<str>>| s.as_deref().map_or(0, str::len);
    let owned = |s: &Option<String>| s.as_deref().map_or(0, str::len);
    let data = r
        .data
        .as_ref()
        .map_or(0, |d| json_len(d.iter().map(|(k, v)| (k.len(), v))));
    FRAME_BYTES
        + r.message.len()
        + [&r.user_id, &r.session_id, &r.flow_id]
            .into_iter()
            .map(len)
            .sum::<usize>()
        + [
            &r.request_id,
            &r.error_name,
            &r.error_stack,
            &r.ip_address,
            &r.country,
        ]
        .into_iter()
        .map(owned)
        .sum::<usize>()
        + r.tags.iter().map(|t| t.len() + 3).sum::<usize>()
        + data
}

/// About how long these members are as JSON (keys and values, quotes and
/// punctuation; escapes not counted), without recursion: data may be deep.
fn json_len<'a>(members: impl Iterator<Item = (usize, &'a Value)>) -> usize {
    let mut stack: Vec<&Value> = Vec::new();
    let mut total = 2;
    for (key, value) in members {
        total += key + 4;
        stack.push(value);
    }
    while let Some(value) = stack.pop() {
        total += match value {
            Value::String(s) => s.len() + 2,
            Value::Array(items) => {
                stack.extend(items);
                2 + items.len()
            }
            Value::Object(map) => {
                for (key, value) in map {
                    total += key.len() + 4;
                    stack.push(value);
                }
                2
            }
            _ => 8,
        };
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_size_of_a_full_record_is_near_its_json() {
        let data = serde_json::json!({"user": {"name": "ada", "tags": ["a", "bb"], "n": 12345}, "ok": true});
        let record = LogRecord {
            data: data.as_object().cloned(),
            error_stack: Some("x".repeat(500)),
            ..LogRecord::new(Level::Error, "failed")
        };
        let json = serde_json::to_vec(&record).unwrap().len();
        let size = Pending::Full(Box::new(record)).size();
        assert!(
            size >= json && size <= json + FRAME_BYTES,
            "{size} vs {json}"
        );
    }
}
