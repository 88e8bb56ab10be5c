//! The one way a call becomes a queued record: admit it (level, then
//! sampling: once), build it ([`Draft`]), then [`emit`](Draft::emit):
//! `before_send`, every limit checked once, queued (with the flow's next
//! step). The client's logging methods, flows, the panic hook and the
//! `tracing` and `log` integrations all take this path.

use serde::Serialize;

use crate::client::data_writer::DataWriter;
use crate::client::flow::Flow;
use crate::client::Client;
use crate::error::Error;
use crate::hooks::redacting::render_data;
use crate::record::buffers;
use crate::record::entry::{LogEntry, LogOptions};
use crate::record::error_payload::ErrorPayload;
use crate::record::level::Level;
use crate::record::record::Record;
use crate::record::trace_context::TraceContext;
use crate::record::validate::validate_record;

/// A record being written for a client, which admitted it: its level
/// passes `min_level` and sampling kept it. Set what it carries, then
/// [`emit`](Self::emit) it (or [`emit_in`](Self::emit_in) a flow); dropping
/// it logs nothing.
///
/// This is the path of every record: the client's own methods build a
/// draft too, so an integration (a bridge from another logging API) gets
/// the same fast path. The record starts with the time of
/// [`Client::draft`] and the client's default user and session ids; its
/// data is rendered through the client's redaction.
///
/// ```
/// # #[path = "../../tests/double/mod.rs"] mod double;
/// # use double::MockTransport;
/// use timber_core::{Client, Level};
///
/// let mock = MockTransport::new();
/// let client = Client::builder().source("s").api_key("k").transport(mock.clone()).build()?;
///
/// // A bridge's event, with a level and fields of its own:
/// if let Some(mut draft) = client.draft(Level::Warn) {
///     let mut data = client.data_writer();
///     data.u64("attempt", 2).str("host", "db-1");
///     draft.message("retrying").with_data(data).tag("bridge");
///     draft.emit();
/// }
/// assert!(client.draft(Level::Debug).is_some(), "min_level is debug");
/// client.flush()?;
/// let record = mock.last().unwrap();
/// assert_eq!((record.message.as_str(), record.tags[0].as_str()), ("retrying", "bridge"));
/// assert_eq!(record.data.unwrap()["attempt"], 2);
/// # Ok::<(), timber_core::Error>(())
/// ```
#[must_use = "a draft logs nothing until it is emitted"]
pub struct Draft<'a> {
    client: &'a Client,
    record: Record,
    /// What went wrong while building, reported when emitted (boxed: the
    /// draft stays small on the path that has none).
    problem: Option<Box<Error>>,
}

impl Client {
    /// Starts a record of `level` if the client wants it: the level passes
    /// `min_level` and sampling keeps it (one random draw, so call it once
    /// per record). `None` costs a comparison.
    #[inline(always)]
    pub fn draft(&self, level: Level) -> Option<Draft<'_>> {
        self.admits(level).then(|| Draft::new(self, level))
    }

    /// Whether a record of this level is to be logged: it passes
    /// `min_level` and sampling keeps it.
    #[inline]
    pub(crate) fn admits(&self, level: Level) -> bool {
        self.should_log(level) && self.config().hooks.sampled_in(level)
    }

    /// A writer of data fields, with this client's redaction, for
    /// [`Draft::with_data`].
    pub fn data_writer(&self) -> DataWriter<'_> {
        DataWriter::new(self.config().hooks.redactor())
    }
}

impl<'a> Draft<'a> {
    /// A draft that skips admission (the panic hook logs every panic).
    #[inline(always)]
    pub(crate) fn new(client: &'a Client, level: Level) -> Self {
        // Built where it stays: a record is 200 bytes, and each move a copy.
        let mut draft = Draft {
            client,
            record: Record::new(level, ""),
            problem: None,
        };
        client.stamp_defaults(&mut draft.record);
        draft.record.set_trace_context(TraceContext::current());
        draft
    }

    /// Sets the message.
    #[inline]
    pub fn message(&mut self, message: impl AsRef<str>) -> &mut Self {
        self.record.set_message(message);
        self
    }

    /// Sets the data: anything that serializes to a JSON object (`()` or
    /// `null` for none), rendered now through the client's redaction.
    /// Anything else is refused when the draft is emitted.
    #[inline]
    pub fn data<T: Serialize>(&mut self, data: T) -> &mut Self {
        // `()`, the usual "no data", without a buffer: a type of no size
        // that writes `null` (decided at compile time for every other type).
        if std::mem::size_of::<T>() == 0 && writes_null(&data) {
            self.record.set_data(None);
            return self;
        }
        match render_data(data, self.client.config().hooks.redactor()) {
            Ok(data) => {
                self.record.set_data(data);
            }
            Err(e) => self.problem = Some(Box::new(e.into())),
        }
        self
    }

    /// Sets the data written field by field ([`Client::data_writer`]); no
    /// field, no data.
    pub fn with_data(&mut self, data: DataWriter<'_>) -> &mut Self {
        self.record.set_data(data.finish());
        self
    }

    /// Adds a tag.
    pub fn tag(&mut self, tag: impl Into<String>) -> &mut Self {
        self.record.tags_mut().push(tag.into());
        self
    }

    /// Applies per-call options (tags, request id).
    #[inline]
    pub fn options(&mut self, options: Option<LogOptions>) -> &mut Self {
        if let Some(options) = options {
            let tags = self.record.tags_mut();
            if tags.is_empty() {
                *tags = buffers::adopt_tags(options.tags);
            } else {
                tags.extend(options.tags);
            }
            if let Some(id) = &options.request_id {
                self.record.set_request_id(Some(id));
            }
        }
        self
    }

    /// Sets the error's type name and stack.
    pub fn error(&mut self, name: String, stack: String) -> &mut Self {
        self.record.set_error_owned(name, stack);
        self
    }

    /// Sets the trace it belongs to (by default, with the `opentelemetry`
    /// feature, that of the span it is logged in).
    pub fn trace_context(&mut self, trace: Option<TraceContext>) -> &mut Self {
        self.record.set_trace_context(trace);
        self
    }

    /// The record, for any other field.
    pub fn record_mut(&mut self) -> &mut Record {
        &mut self.record
    }

    /// Takes every field a [`LogEntry`] sets; those it leaves `None` keep
    /// the client's defaults (its flow id and step are kept unless the
    /// draft is emitted in a flow).
    pub(crate) fn entry(&mut self, entry: LogEntry) -> &mut Self {
        let LogEntry {
            message,
            data,
            error_name,
            error_stack,
            tags,
            user_id,
            session_id,
            request_id,
            flow_id,
            step_index,
            dataset,
            timestamp,
            ip_address,
            country,
            ..
        } = entry;
        self.message(message);
        if let Some(data) = data {
            self.data(data);
        }
        let r = &mut self.record;
        *r.tags_mut() = buffers::adopt_tags(tags);
        if error_name.is_some() || error_stack.is_some() {
            r.set_error(error_name.as_deref(), error_stack.as_deref());
        }
        if let Some(id) = user_id {
            r.set_user_id(Some(&id));
        }
        if let Some(id) = session_id {
            r.set_session_id(Some(&id));
        }
        if let Some(millis) = timestamp {
            r.set_timestamp(millis);
        }
        if flow_id.is_some() {
            r.set_flow(flow_id.as_deref(), step_index);
        }
        let optional = [request_id, dataset, ip_address, country];
        if optional.iter().any(Option::is_some) {
            let [request_id, dataset, ip_address, country] = optional;
            r.set_request_id(request_id.as_deref())
                .set_dataset(dataset.as_deref())
                .set_ip_address(ip_address.as_deref())
                .set_country(country.as_deref());
        }
        self
    }

    /// Takes what [`Client::error`] was given: data, or an error's name,
    /// stack and message (in `data.message`).
    pub(crate) fn payload(&mut self, payload: ErrorPayload) -> &mut Self {
        match payload {
            ErrorPayload::None => self,
            ErrorPayload::Data(map) => self.data(map),
            ErrorPayload::Error {
                name,
                stack,
                message,
            } => {
                self.record.set_error_owned(name, stack);
                self.data(serde_json::json!({ "message": message }))
            }
            ErrorPayload::Invalid(reason) => {
                self.problem = Some(Box::new(Error::InvalidData(reason)));
                self
            }
        }
    }

    /// Captures a backtrace of this thread now (unresolved), when the
    /// client's setting asks for one.
    pub(crate) fn backtrace(&mut self) -> &mut Self {
        if let Some(captured) = self.client.config().backtrace.capture() {
            self.record.set_backtrace(captured);
        }
        self
    }

    /// Queues the record; what refuses it (invalid input, a closed client)
    /// goes to `on_error`. Overflow is reported by the queue, once a burst.
    #[inline(always)]
    pub fn emit(self) {
        let client = self.client;
        report(client, self.try_emit());
    }

    /// Queues the record as the next step of `flow`, as [`emit`](Self::emit).
    #[inline]
    pub fn emit_in(self, flow: &Flow) {
        let client = self.client;
        report(client, self.try_emit_in(flow));
    }

    /// Queues the record, or returns why it was not (counted in
    /// [`Stats::invalid`](crate::Stats::invalid), or as dropped at the
    /// queue's bound). A record `before_send` drops is not an error.
    #[inline(always)]
    pub fn try_emit(self) -> Result<(), Error> {
        self.finish(None)
    }

    /// Queues the record as the next step of `flow`, as
    /// [`try_emit`](Self::try_emit); a record refused consumes no step.
    #[inline]
    pub fn try_emit_in(mut self, flow: &Flow) -> Result<(), Error> {
        self.record.set_shared_flow(flow.shared_id());
        if let Some(trace) = flow.trace_context() {
            self.record.set_trace_context(Some(trace));
        }
        self.finish(Some(flow))
    }

    #[inline(always)]
    fn finish(mut self, flow: Option<&Flow>) -> Result<(), Error> {
        let client = self.client;
        let result = match self.problem.take() {
            Some(e) => Err(*e),
            None => queue(client, &mut self.record, flow),
        };
        if let Err(e) = &result {
            if !matches!(e, Error::QueueFull { .. }) {
                client.count_invalid();
            }
        }
        result
    }
}

/// Whether `value` serializes to JSON `null`, and nothing longer.
fn writes_null(value: &impl Serialize) -> bool {
    let mut text = [0u8; 4];
    let mut room = &mut text[..];
    serde_json::to_writer(&mut room, value).is_ok() && room.is_empty() && &text == b"null"
}

/// Reports a refusal to `on_error` (overflow is reported by the queue).
#[inline]
fn report(client: &Client, result: Result<(), Error>) {
    if let Err(e) = result {
        if !matches!(e, Error::QueueFull { .. }) {
            client.report(e);
        }
    }
}

/// `before_send`, every limit, then the queue. The record is taken from
/// where the draft built it only by the queue (a record is 200 bytes: each
/// move is a copy).
#[inline(always)]
fn queue(client: &Client, record: &mut Record, flow: Option<&Flow>) -> Result<(), Error> {
    if client.config().hooks.has_before_send() {
        return queue_through_hook(client, record.take(), flow);
    }
    validate_record(record)?;
    client.enqueue(record, flow.map(Flow::steps))
}

/// [`queue`] with a `before_send` hook: the record goes through it first.
/// Apart, so that the path without a hook moves the record no more.
#[inline(never)]
fn queue_through_hook(client: &Client, record: Record, flow: Option<&Flow>) -> Result<(), Error> {
    let mut record = match client.config().hooks.before_send(record) {
        Ok(Some(record)) => record,
        Ok(None) => return Ok(()),
        Err(reason) => return Err(Error::InvalidData(reason.to_owned())),
    };
    validate_record(&record)?;
    client.enqueue(&mut record, flow.map(Flow::steps))
}

#[cfg(test)]
mod tests {
    use crate::client::Client;
    use crate::record::backtrace::tests::RESOLVED_ON;
    use crate::record::error_payload::ErrorPayload;
    use crate::transport::double::MockTransport;

    #[test]
    fn the_worker_resolves_the_backtrace_the_caller_captured() {
        let mock = MockTransport::new();
        let client = Client::builder()
            .source("s")
            .api_key("k")
            .transport(mock.clone())
            .build()
            .unwrap();
        let err = std::io::Error::other("disk");
        let payload = ErrorPayload::from_error(&err, "ResolvedOnTheWorker");
        client.error("failed", payload, None).flush().unwrap();

        let resolved: Vec<Option<String>> = RESOLVED_ON
            .lock()
            .unwrap()
            .iter()
            .filter(|(first, _)| first.starts_with("ResolvedOnTheWorker"))
            .map(|(_, thread)| thread.clone())
            .collect();
        assert_eq!(resolved, [Some("timber-worker".to_owned())]);
        let stack = mock.last().unwrap().error_stack.unwrap();
        // (This test's own frames are the SDK's, left out: what is left is the harness.)
        assert!(
            stack.starts_with("ResolvedOnTheWorker: disk\n\nBacktrace:\n   0: "),
            "{stack}"
        );
    }
}
