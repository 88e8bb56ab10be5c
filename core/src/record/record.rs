//! [`Record`]: one log record on its way from a logging call to a transport.

use std::backtrace::Backtrace;
use std::fmt;
use std::sync::Arc;

use compact_str::CompactString;

use crate::record::backtrace;
use crate::record::data::Data;
use crate::record::details::{self, Details, PendingBacktrace};
use crate::record::level::Level;
use crate::record::log_record::LogRecord;
use crate::record::trace_context::{self, TraceContext};

/// One log record as the client queues it and a transport receives it
/// (in a [`Batch`](crate::transport::Batch), with the client's resource:
/// source, environment, version).
///
/// Its `data` is the JSON object the caller gave, rendered once
/// ([`Data`]); every other field is a value. The fields of the protocol's
/// record are here under their Rust names, read with the getters and
/// changed with the setters (a [`before_send`](crate::ClientBuilder::before_send)
/// hook does both); [`to_log_record`](Self::to_log_record) gives the wire
/// form.
///
/// ```
/// use timber_core::{Level, Record};
/// let mut record = Record::new(Level::Warn, "disk almost full");
/// record.set_user_id(Some("u-1")).tags_mut().push("disk".into());
/// assert_eq!(record.message(), "disk almost full");
/// assert_eq!(record.to_log_record().user_id.as_deref(), Some("u-1"));
/// ```
#[derive(Clone, PartialEq)]
pub struct Record {
    level: Level,
    step_index: Option<u32>,
    timestamp: i64,
    message: CompactString,
    flow_id: Option<Arc<str>>,
    user_id: Option<Arc<str>>,
    session_id: Option<Arc<str>>,
    dataset: Option<Arc<str>>,
    data: Option<Data>,
    tags: Vec<String>,
    /// The fields most records lack, boxed so that a plain record stays small.
    details: Option<Box<Details>>,
}

/// Room for a record's punctuation, level, field names, timestamp and step
/// as JSON.
const FRAME_BYTES: usize = 96;

impl Record {
    /// A record without a message, time or anything else: it owns nothing.
    const EMPTY: Record = Record {
        level: Level::Info,
        step_index: None,
        timestamp: 0,
        message: CompactString::const_new(""),
        flow_id: None,
        user_id: None,
        session_id: None,
        dataset: None,
        data: None,
        tags: Vec::new(),
        details: None,
    };

    /// A record with a level, a message and the current time.
    pub fn new(level: Level, message: impl AsRef<str>) -> Self {
        Record {
            level,
            timestamp: crate::rt::wall_clock::now_millis(),
            message: CompactString::from(message.as_ref()),
            ..Record::EMPTY
        }
    }

    /// Severity.
    pub fn level(&self) -> Level {
        self.level
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Unix time in milliseconds.
    pub fn timestamp(&self) -> i64 {
        self.timestamp
    }

    /// Structured data.
    pub fn data(&self) -> Option<&Data> {
        self.data.as_ref()
    }

    /// Tags.
    pub fn tags(&self) -> &[String] {
        &self.tags
    }

    /// The user id (the client's default unless the call gave one).
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// The session id (the client's default unless the call gave one).
    pub fn session_id(&self) -> Option<&str> {
        self.session_id.as_deref()
    }

    /// The request id.
    pub fn request_id(&self) -> Option<&str> {
        self.details()?.request_id.as_deref()
    }

    /// The error's type name.
    pub fn error_name(&self) -> Option<&str> {
        self.details()?.error_name.as_deref()
    }

    /// The error, its cause chain and (once resolved) its backtrace.
    pub fn error_stack(&self) -> Option<&str> {
        self.details()?.error_stack.as_deref()
    }

    /// The flow the record belongs to.
    pub fn flow_id(&self) -> Option<&str> {
        self.flow_id.as_deref()
    }

    /// The record's step within its flow.
    pub fn step_index(&self) -> Option<u32> {
        self.step_index
    }

    /// The dataset (the client's unless the call gave one).
    pub fn dataset(&self) -> Option<&str> {
        self.dataset.as_deref()
    }

    /// The client's IP address.
    pub fn ip_address(&self) -> Option<&str> {
        self.details()?.ip_address.as_deref()
    }

    /// The country code.
    pub fn country(&self) -> Option<&str> {
        self.details()?.country.as_deref()
    }

    /// The trace it was logged in, if any.
    pub fn trace_context(&self) -> Option<TraceContext> {
        self.details()?.trace
    }

    fn details(&self) -> Option<&Details> {
        self.details.as_deref()
    }

    /// Whether any of the fields most records lack is set.
    pub(crate) fn has_details(&self) -> bool {
        self.details.is_some()
    }

    fn details_mut(&mut self) -> &mut Details {
        self.details.get_or_insert_with(details::take)
    }

    /// Its details' box, for the worker to hand back to callers.
    pub(crate) fn take_details(&mut self) -> Option<Box<Details>> {
        self.details.take()
    }

    /// Sets the level.
    pub fn set_level(&mut self, level: Level) -> &mut Self {
        self.level = level;
        self
    }

    /// Sets the message.
    pub fn set_message(&mut self, message: impl AsRef<str>) -> &mut Self {
        self.message = CompactString::from(message.as_ref());
        self
    }

    /// Sets the timestamp (Unix milliseconds).
    pub fn set_timestamp(&mut self, millis: i64) -> &mut Self {
        self.timestamp = millis;
        self
    }

    /// Sets or clears the data.
    pub fn set_data(&mut self, data: Option<Data>) -> &mut Self {
        self.data = data;
        self
    }

    /// The tags, to change.
    pub fn tags_mut(&mut self) -> &mut Vec<String> {
        &mut self.tags
    }

    /// Sets or clears the user id.
    pub fn set_user_id(&mut self, id: Option<&str>) -> &mut Self {
        self.user_id = id.map(Arc::from);
        self
    }

    /// Sets or clears the session id.
    pub fn set_session_id(&mut self, id: Option<&str>) -> &mut Self {
        self.session_id = id.map(Arc::from);
        self
    }

    /// Sets or clears the request id.
    pub fn set_request_id(&mut self, id: Option<&str>) -> &mut Self {
        self.details_mut().request_id = id.map(str::to_owned);
        self
    }

    /// Sets or clears the error's type name and stack.
    pub fn set_error(&mut self, name: Option<&str>, stack: Option<&str>) -> &mut Self {
        let details = self.details_mut();
        details.error_name = name.map(str::to_owned);
        details.error_stack = stack.map(str::to_owned);
        self
    }

    /// Sets or clears the flow id and step index (records logged through a
    /// [`Flow`](crate::Flow) get both from it).
    pub fn set_flow(&mut self, flow_id: Option<&str>, step_index: Option<u32>) -> &mut Self {
        self.flow_id = flow_id.map(Arc::from);
        self.step_index = step_index;
        self
    }

    /// Sets or clears the dataset.
    pub fn set_dataset(&mut self, dataset: Option<&str>) -> &mut Self {
        self.dataset = dataset.map(Arc::from);
        self
    }

    /// Sets or clears the IP address.
    pub fn set_ip_address(&mut self, ip: Option<&str>) -> &mut Self {
        self.details_mut().ip_address = ip.map(str::to_owned);
        self
    }

    /// Sets or clears the country code.
    pub fn set_country(&mut self, country: Option<&str>) -> &mut Self {
        self.details_mut().country = country.map(str::to_owned);
        self
    }

    /// Sets (or clears) the trace it belongs to.
    pub fn set_trace_context(&mut self, trace: Option<TraceContext>) -> &mut Self {
        if trace.is_some() || self.details.is_some() {
            self.details_mut().trace = trace;
        }
        self
    }

    /// The record in the protocol's wire form, without the fields of the
    /// resource (source, environment, version), which the batch adds.
    pub fn to_log_record(&self) -> LogRecord {
        let details = self.details();
        let owned = |f: fn(&Details) -> &Option<String>| details.and_then(|d| f(d).clone());
        LogRecord {
            level: self.level,
            message: self.message.to_string(),
            user_id: self.user_id.clone(),
            session_id: self.session_id.clone(),
            request_id: owned(|d| &d.request_id),
            data: trace_context::with_trace(
                self.data.as_ref().map(Data::to_map),
                self.trace_context(),
            ),
            error_name: owned(|d| &d.error_name),
            error_stack: owned(|d| &d.error_stack),
            tags: self.tags.clone(),
            flow_id: self.flow_id.clone(),
            step_index: self.step_index,
            dataset: self.dataset.clone(),
            timestamp: Some(self.timestamp),
            ip_address: owned(|d| &d.ip_address),
            country: owned(|d| &d.country),
            ..LogRecord::default()
        }
    }

    // --- what the client's pipeline does with it ---------------------------

    pub(crate) fn set_shared_ids(&mut self, user: Option<Arc<str>>, session: Option<Arc<str>>) {
        self.user_id = user;
        self.session_id = session;
    }

    pub(crate) fn set_shared_flow(&mut self, flow_id: Arc<str>) {
        self.flow_id = Some(flow_id);
    }

    /// Moves the record out, leaving an empty one that owns nothing: the
    /// queue takes a draft's record this way, so that the 200-byte record
    /// is not copied at every call on its way there.
    #[inline]
    pub(crate) fn take(&mut self) -> Record {
        std::mem::replace(self, Record::EMPTY)
    }

    pub(crate) fn set_step(&mut self, index: u32) {
        self.step_index = Some(index);
    }

    pub(crate) fn default_dataset(&mut self, dataset: &Option<Arc<str>>) {
        if self.dataset.is_none() {
            self.dataset.clone_from(dataset);
        }
    }

    pub(crate) fn take_data(&mut self) -> Option<Data> {
        self.data.take()
    }

    pub(crate) fn set_error_owned(&mut self, name: String, stack: String) {
        let details = self.details_mut();
        details.error_name = Some(name);
        details.error_stack = Some(stack);
    }

    /// Keeps a backtrace of the calling thread, to be appended to the error
    /// stack by [`resolve_backtrace`](Self::resolve_backtrace).
    pub(crate) fn set_backtrace(&mut self, captured: Backtrace) {
        self.details_mut().backtrace = Some(PendingBacktrace(Arc::new(captured)));
    }

    /// Appends the caller's backtrace, if any, to the error stack, resolving
    /// its symbols now (on the worker).
    pub(crate) fn resolve_backtrace(&mut self) {
        let Some(details) = self.details.as_deref_mut() else {
            return;
        };
        if let Some(PendingBacktrace(captured)) = details.backtrace.take() {
            let stack = details.error_stack.get_or_insert_with(String::new);
            backtrace::append(stack, &captured);
        }
    }

    /// About how many bytes the record takes as the protocol's JSON without
    /// the resource's fields: what the queue's and a batch's byte bounds
    /// count. Text is counted with an allowance of one escape in eight bytes.
    pub(crate) fn size(&self) -> usize {
        let shared = |s: &Option<Arc<str>>| s.as_deref().map_or(0, str::len);
        let text = |s: &Option<String>| s.as_deref().map_or(0, |s| s.len() + s.len() / 8 + 14);
        let details = self.details().map_or(0, |d| {
            let stack = d
                .error_stack
                .as_deref()
                .map_or(0, |s| s.matches('\n').count());
            let pending = if d.backtrace.is_some() {
                crate::record::limits::ERROR_STACK
            } else {
                0
            };
            [
                &d.request_id,
                &d.error_name,
                &d.error_stack,
                &d.ip_address,
                &d.country,
            ]
            .into_iter()
            .map(text)
            .sum::<usize>()
                + stack
                + pending
                + d.trace.map_or(0, |_| trace_context::WIRE_BYTES)
        });
        FRAME_BYTES
            + self.message.len()
            + self.message.len() / 8
            + [
                &self.user_id,
                &self.session_id,
                &self.flow_id,
                &self.dataset,
            ]
            .into_iter()
            .map(|s| shared(s) + shared(s) / 8 + 14)
            .sum::<usize>()
            + self.data.as_ref().map_or(0, |d| d.len() + 8)
            + self
                .tags
                .iter()
                .map(|t| t.len() + t.len() / 8 + 3)
                .sum::<usize>()
            + details
    }
}

impl From<LogRecord> for Record {
    /// The record of a wire record; its resource's fields (source,
    /// environment, version) are not the record's and are left out.
    fn from(mut r: LogRecord) -> Self {
        let trace = trace_context::take_trace(&mut r.data);
        let details = Details {
            request_id: r.request_id,
            error_name: r.error_name,
            error_stack: r.error_stack,
            ip_address: r.ip_address,
            country: r.country,
            backtrace: None,
            trace,
        };
        let has_details = details != Details::default();
        Record {
            level: r.level,
            step_index: r.step_index,
            timestamp: r
                .timestamp
                .unwrap_or_else(crate::rt::wall_clock::now_millis),
            message: CompactString::from(r.message),
            flow_id: r.flow_id,
            user_id: r.user_id,
            session_id: r.session_id,
            dataset: r.dataset,
            data: r.data.as_ref().map(Data::from_map),
            tags: r.tags,
            details: has_details.then(|| Box::new(details)),
        }
    }
}

impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Record");
        d.field("level", &self.level)
            .field("message", &self.message())
            .field("timestamp", &self.timestamp);
        let optional = [
            ("user_id", self.user_id()),
            ("session_id", self.session_id()),
            ("request_id", self.request_id()),
            ("error_name", self.error_name()),
            ("error_stack", self.error_stack()),
            ("flow_id", self.flow_id()),
            ("dataset", self.dataset()),
            ("ip_address", self.ip_address()),
            ("country", self.country()),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                d.field(name, &value);
            }
        }
        if let Some(step) = self.step_index {
            d.field("step_index", &step);
        }
        if let Some(data) = &self.data {
            d.field("data", data);
        }
        if !self.tags.is_empty() {
            d.field("tags", &self.tags);
        }
        if let Some(trace) = self.trace_context() {
            d.field("trace", &trace);
        }
        d.finish()
    }
}

#[cfg(test)]
#[path = "record_tests.rs"]
mod tests;
