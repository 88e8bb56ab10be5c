//! The client handle: the logging API callers use.

use std::backtrace::Backtrace;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, ThreadId};
use std::time::Duration;

use arc_swap::ArcSwap;
use compact_str::CompactString;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::encode::render_extra;
use crate::pending::{self, Ids, Pending, Plain, Traced, NO_STEP};
use crate::pipeline::Pipeline;
use crate::spool::Spool;
use crate::validate::limits;
use crate::validate::{check_message, check_tags};
use crate::{
    now_millis, validate, ClientBuilder, Config, ConfigError, Endpoint, Error, ErrorOrData,
    ErrorPayload, Flow, IngestRawOptions, Level, LogEntry, LogOptions, LogRecord, RawFormat,
    RawRequest, Stats, Transport, TransportError, ValidationError, Violation,
};

/// The logging client: a cheap `Clone + Send + Sync` handle.
///
/// Logging calls validate, stamp and queue the record, and return at once;
/// a background worker batches and sends. Dropping the last handle flushes
/// what is queued within the shutdown timeout.
///
/// ```
/// use serde_json::json;
/// use timber_core::{Client, Level, LogOptions};
/// use timber_core::mock::MockTransport;
///
/// let mock = MockTransport::new();
/// let client = Client::builder()
///     .source("api")
///     .api_key("tb_test_key")
///     .transport(mock.clone())
///     .build()?;
///
/// client
///     .set_user_id(Some("user-42"))
///     .info("user signed in", json!({"method": "oauth"}), LogOptions::tags(["auth"]))
///     .warn("slow response", json!({"ms": 1250}), None)
///     .debug("cache miss", (), None);
///
/// let err = "abc".parse::<i32>().unwrap_err();
/// client.error("parsing failed", &err, None);
///
/// client.flush()?;
/// assert_eq!(mock.count(), 4);
/// assert_eq!(mock.by_level(Level::Error)[0].error_name.as_deref(), Some("ParseIntError"));
/// assert_eq!(mock.by_tag("auth")[0].user_id.as_deref(), Some("user-42"));
/// # Ok::<(), timber_core::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

/// A [`Client`] handle that does not keep the client alive; see
/// [`Client::downgrade`].
#[derive(Clone, Debug)]
pub struct WeakClient {
    inner: std::sync::Weak<Inner>,
}

impl WeakClient {
    /// The client, while some `Client` handle still lives.
    pub fn upgrade(&self) -> Option<Client> {
        self.inner.upgrade().map(|inner| Client { inner })
    }
}

struct Inner {
    pipeline: Arc<Pipeline>,
    defaults: ArcSwap<Ids>,
    /// Whether any default was ever set: until then, logging skips reading them.
    has_defaults: AtomicBool,
    worker: ThreadId,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let config = self.pipeline.config();
        let close = self.pipeline.close(config.shutdown_timeout);
        if may_wait(config, self.worker) {
            let _ = crate::block_on::block_on(close);
        }
    }
}

/// Whether the last handle's drop may wait for the final delivery: not on
/// the worker thread itself (a callback held the last handle: it would wait
/// forever), and not inside an async executor (it would stall every task of
/// that thread); there the worker delivers in the background.
fn may_wait(config: &Config, worker: ThreadId) -> bool {
    let in_async = config.in_async_context.is_some_and(|check| check());
    thread::current().id() != worker && !in_async
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", self.config())
            .field("stats", &self.stats())
            .finish()
    }
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    pub(crate) fn start(
        config: Config,
        transport: Arc<dyn Transport>,
        spool: Option<Spool>,
    ) -> Result<Client, ConfigError> {
        let defaults = Ids::new(config.user_id.clone(), config.session_id.clone());
        let endpoint = Endpoint {
            base_url: config.base_url.clone(),
            api_key: config.api_key.clone(),
        };
        let (pipeline, worker) =
            Pipeline::start(config, endpoint, transport, spool).map_err(|e| ConfigError {
                field: "worker",
                reason: format!("cannot start the worker thread: {e}"),
            })?;
        Ok(Client {
            inner: Arc::new(Inner {
                pipeline,
                has_defaults: AtomicBool::new(
                    defaults.user_id.is_some() || defaults.session_id.is_some(),
                ),
                defaults: ArcSwap::from_pointee(defaults),
                worker,
            }),
        })
    }

    /// The configuration the client was built with.
    pub fn config(&self) -> &Config {
        self.inner.pipeline.config()
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.inner.pipeline.stats()
    }

    /// Whether a record of this level passes `min_level`.
    pub fn should_log(&self, level: Level) -> bool {
        level >= self.config().min_level
    }

    /// Logs at debug level. `data` is anything that serializes to a JSON
    /// object, or `()` for none.
    pub fn debug(
        &self,
        message: impl AsRef<str>,
        data: impl Serialize,
        options: impl Into<Option<LogOptions>>,
    ) -> &Self {
        self.log_data(Level::Debug, message, data, options.into(), None);
        self
    }

    /// Logs at info level.
    pub fn info(
        &self,
        message: impl AsRef<str>,
        data: impl Serialize,
        options: impl Into<Option<LogOptions>>,
    ) -> &Self {
        self.log_data(Level::Info, message, data, options.into(), None);
        self
    }

    /// Logs at warn level.
    pub fn warn(
        &self,
        message: impl AsRef<str>,
        data: impl Serialize,
        options: impl Into<Option<LogOptions>>,
    ) -> &Self {
        self.log_data(Level::Warn, message, data, options.into(), None);
        self
    }

    /// Logs at error level, with an error value (`&err` of any
    /// `std::error::Error`, a `Box<dyn Error>`, an `anyhow::Error` or
    /// `eyre::Report` with their features), whose name, message, cause
    /// chain and a backtrace are extracted, or with the same data as
    /// [`info`](Self::info). See [`ErrorOrData`] for what each gives.
    pub fn error<K>(
        &self,
        message: impl AsRef<str>,
        error_or_data: impl ErrorOrData<K>,
        options: impl Into<Option<LogOptions>>,
    ) -> &Self {
        error_or_data.emit(self, message.as_ref(), options.into(), None);
        self
    }

    /// Logs a full entry; invalid input goes to `on_error`.
    pub fn log(&self, entry: LogEntry) -> &Self {
        let _ = self.log_entry(entry, None);
        self
    }

    /// Logs a full entry and returns why it was not accepted, if it was not.
    /// A record below `min_level` is not an error: it is skipped.
    pub fn try_log(&self, entry: LogEntry) -> Result<(), Error> {
        self.submit_entry(entry, None)
    }

    /// Sets the default user id of later records; `None` clears it.
    pub fn set_user_id(&self, user_id: Option<&str>) -> &Self {
        self.set_default("userId", user_id, |d, v| Ids::new(v, d.session_id.clone()));
        self
    }

    /// Sets the default session id of later records; `None` clears it.
    pub fn set_session_id(&self, session_id: Option<&str>) -> &Self {
        self.set_default("sessionId", session_id, |d, v| {
            Ids::new(d.user_id.clone(), v)
        });
        self
    }

    /// The current default user id.
    pub fn user_id(&self) -> Option<Arc<str>> {
        self.inner.defaults.load().user_id.clone()
    }

    /// The current default session id.
    pub fn session_id(&self) -> Option<Arc<str>> {
        self.inner.defaults.load().session_id.clone()
    }

    fn set_default(
        &self,
        field: &str,
        value: Option<&str>,
        with: impl Fn(&Ids, Option<Arc<str>>) -> Ids,
    ) {
        if let Some(v) = value {
            let n = v.chars().count();
            if n > limits::ID {
                self.refuse(Error::Validation(ValidationError {
                    field: field.to_owned(),
                    violation: Violation::TooLong,
                    limit: limits::ID,
                    actual: n,
                }));
                return;
            }
        }
        let value: Option<Arc<str>> = value.map(Arc::from);
        self.inner.has_defaults.store(true, Ordering::Release);
        self.inner
            .defaults
            .rcu(|current| with(current, value.clone()));
    }

    /// Starts a flow with a local id `{name}-{8 random [a-z0-9]}`.
    ///
    /// ```
    /// # use timber_core::Client;
    /// # use timber_core::mock::MockTransport;
    /// # let client = Client::builder().source("s").api_key("k").transport(MockTransport::new()).build()?;
    /// let flow = client.flow("checkout")?;
    /// assert!(flow.id().starts_with("checkout-"));
    /// assert_eq!(flow.id().len(), "checkout-".len() + 8);
    /// # Ok::<(), timber_core::Error>(())
    /// ```
    pub fn flow(&self, name: &str) -> Result<Flow, Error> {
        self.new_flow(name, crate::flow::local_id(name))
    }

    /// Starts a flow whose id the transport gives (the service's, for the
    /// hyper transport), with the
    /// client's retry policy.
    pub async fn flow_async(&self, name: &str) -> Result<Flow, Error> {
        check_flow_name(name)?;
        let p = &self.inner.pipeline;
        let id = self
            .with_retry(|| p.transport().create_flow(p.endpoint(), name))
            .await
            .map_err(Error::Transport)?;
        self.new_flow(name, id)
    }

    fn new_flow(&self, name: &str, id: String) -> Result<Flow, Error> {
        check_flow_name(name)?;
        let n = id.chars().count();
        if id.is_empty() || n > limits::FLOW_ID {
            return Err(Error::Validation(ValidationError {
                field: "flowId".into(),
                violation: if id.is_empty() {
                    Violation::TooShort
                } else {
                    Violation::TooLong
                },
                limit: limits::FLOW_ID,
                actual: n,
            }));
        }
        Ok(Flow::new(self.clone(), name.into(), id.into()))
    }

    /// Sends a raw body (json, jsonl, syslog, text, csv or obl) now, blocking
    /// the calling thread, with the client's retry policy. Options left
    /// `None` take the client's source, environment and dataset.
    ///
    /// ```
    /// # use timber_core::{Client, RawFormat};
    /// # use timber_core::mock::MockTransport;
    /// # let mock = MockTransport::new();
    /// # let client = Client::builder().source("relay").api_key("k").transport(mock.clone()).build()?;
    /// client.ingest_raw("level,message\nerror,Connection refused", RawFormat::Csv, None)?;
    /// let raw = mock.raw_ingestions();
    /// assert_eq!(raw[0].format, RawFormat::Csv);
    /// assert_eq!(raw[0].options.source.as_deref(), Some("relay"));
    /// # Ok::<(), timber_core::Error>(())
    /// ```
    pub fn ingest_raw(
        &self,
        body: &str,
        format: RawFormat,
        options: impl Into<Option<IngestRawOptions>>,
    ) -> Result<(), Error> {
        crate::block_on::block_on(self.ingest_raw_async(body, format, options))
    }

    /// The async form of [`Client::ingest_raw`]; runs under any executor.
    pub async fn ingest_raw_async(
        &self,
        body: &str,
        format: RawFormat,
        options: impl Into<Option<IngestRawOptions>>,
    ) -> Result<(), Error> {
        let p = &self.inner.pipeline;
        if p.is_closed() {
            return Err(Error::Closed);
        }
        let config = self.config();
        if body.trim().is_empty() {
            return Err(Error::InvalidRawBody {
                format,
                reason: "the body is empty".into(),
            });
        }
        if let (true, Some(check)) = (config.check_raw_bodies, &config.raw_validator) {
            check(format, body).map_err(|reason| Error::InvalidRawBody { format, reason })?;
        }
        let mut options = options.into().unwrap_or_default();
        options
            .source
            .get_or_insert_with(|| config.source.to_string());
        options.environment.get_or_insert(config.environment);
        if let Some(dataset) = &config.dataset {
            options.dataset.get_or_insert_with(|| dataset.to_string());
        }
        let key = crate::batch::new_key();
        let raw = RawRequest {
            body,
            format,
            options: &options,
            idempotency_key: &key,
        };
        self.with_retry(|| p.transport().ingest_raw(p.endpoint(), raw))
            .await
            .map_err(Error::Transport)
    }

    /// The client's retry policy around a transport call made for a caller.
    async fn with_retry<T, F, Fut>(&self, op: F) -> Result<T, TransportError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, TransportError>>,
    {
        crate::retry::retrying(&self.config().retry, &|| None, op, |_| ()).await
    }

    /// Sends everything queued so far and waits for the outcome. A batch
    /// that fails every retry stays queued and its error is returned.
    /// Returns the client, so that calls chain:
    ///
    /// ```
    /// # use timber_core::Client;
    /// # use timber_core::mock::MockTransport;
    /// # let mock = MockTransport::new();
    /// # let client = Client::builder().source("s").api_key("k").transport(mock.clone()).build()?;
    /// client.info("one", (), None).flush()?.info("two", (), None).disconnect()?;
    /// assert_eq!(mock.count(), 2);
    /// # Ok::<(), timber_core::Error>(())
    /// ```
    pub fn flush(&self) -> Result<&Self, Error> {
        self.flush_timeout(crate::clock::LONGEST)
    }

    /// [`flush`](Self::flush), waiting at most `timeout`: then
    /// [`Error::Timeout`], and delivery goes on in the background. From
    /// `on_error` on the worker thread it does not wait at all.
    pub fn flush_timeout(&self, timeout: Duration) -> Result<&Self, Error> {
        let flush = self.inner.pipeline.flush();
        if self.on_worker_thread() {
            return Err(Error::Timeout {
                after: Duration::ZERO,
            });
        }
        crate::block_on::block_on_timeout(flush, timeout)
            .unwrap_or(Err(Error::Timeout { after: timeout }))
            .map(|()| self)
    }

    /// Whether this is the client's worker thread (a callback runs there):
    /// waiting for the worker there would wait forever.
    fn on_worker_thread(&self) -> bool {
        thread::current().id() == self.inner.worker
    }

    /// The async form of [`Client::flush`]: awaits without blocking the
    /// executor (safe on a current-thread runtime).
    pub async fn flush_async(&self) -> Result<&Self, Error> {
        self.inner.pipeline.flush().await.map(|()| self)
    }

    /// Flushes and stops the worker, within the shutdown timeout. Later
    /// logging calls are refused with [`Error::Closed`]. Returns the client
    /// (for [`stats`](Self::stats), say) so that calls chain.
    ///
    /// What it guarantees with the defaults: within `shutdown_timeout` (5 s),
    /// every queued record is sent, each batch keeping its retries with the
    /// waits between them shortened to fit before the deadline (a service
    /// that fails three times in a row still gets the records). What is not
    /// delivered by then goes to the spool if one is configured (sent first
    /// at the next start); otherwise it is counted lost and returned as
    /// [`Error::Lost`] (also reported to `on_error`, once, with the total).
    pub fn disconnect(&self) -> Result<&Self, Error> {
        self.disconnect_timeout(self.config().shutdown_timeout)
    }

    /// [`disconnect`](Self::disconnect) within `timeout` instead of the
    /// configured shutdown timeout. From `on_error` on the worker thread it
    /// starts the shutdown and returns [`Error::Timeout`] at once.
    pub fn disconnect_timeout(&self, timeout: Duration) -> Result<&Self, Error> {
        let close = self.inner.pipeline.close(timeout);
        if self.on_worker_thread() {
            return Err(Error::Timeout {
                after: Duration::ZERO,
            });
        }
        crate::block_on::block_on(close).map(|()| self)
    }

    /// The async form of [`Client::disconnect`].
    pub async fn disconnect_async(&self) -> Result<&Self, Error> {
        let timeout = self.config().shutdown_timeout;
        self.inner.pipeline.close(timeout).await.map(|()| self)
    }

    /// A handle that does not keep the client alive: for `on_error` and
    /// anything else the client itself holds, where a `Client` would form a
    /// cycle and the client would never be flushed and stopped on drop.
    ///
    /// ```
    /// # use timber_core::Client;
    /// # use timber_core::mock::MockTransport;
    /// let client = Client::builder().source("s").api_key("k").transport(MockTransport::new()).build()?;
    /// let weak = client.downgrade();
    /// assert!(weak.upgrade().is_some());
    /// drop(client);
    /// assert!(weak.upgrade().is_none());
    /// # Ok::<(), timber_core::Error>(())
    /// ```
    pub fn downgrade(&self) -> WeakClient {
        WeakClient {
            inner: Arc::downgrade(&self.inner),
        }
    }

    /// A guard that disconnects the client when it goes out of scope, even
    /// while other handles live (the Rust form of a context manager).
    ///
    /// ```
    /// # use timber_core::Client;
    /// # use timber_core::mock::MockTransport;
    /// let mock = MockTransport::new();
    /// let client = Client::builder().source("job").api_key("k").transport(mock.clone()).build()?;
    /// {
    ///     let _guard = client.shutdown_guard();
    ///     client.info("working", (), None);
    /// }
    /// assert_eq!(mock.count(), 1);
    /// # Ok::<(), timber_core::Error>(())
    /// ```
    pub fn shutdown_guard(&self) -> ShutdownGuard {
        ShutdownGuard {
            client: self.clone(),
        }
    }

    // --- the logging path -------------------------------------------------

    pub(crate) fn log_data(
        &self,
        level: Level,
        message: impl AsRef<str>,
        data: impl Serialize,
        options: Option<LogOptions>,
        flow: Option<&Flow>,
    ) {
        if !self.admits(level) {
            return;
        }
        match options {
            Some(o) if o.request_id.is_some() => self.log_full(
                level,
                message.as_ref(),
                ErrorPayload::data(data),
                Some(o),
                flow,
                None,
            ),
            o => self.log_plain(level, message.as_ref(), data, o.map(|o| o.tags), flow),
        }
    }

    #[inline]
    pub(crate) fn log_payload(
        &self,
        level: Level,
        message: impl AsRef<str>,
        payload: ErrorPayload,
        options: Option<LogOptions>,
        flow: Option<&Flow>,
    ) {
        if !self.admits(level) {
            return;
        }
        let message = message.as_ref();
        let plain = options.as_ref().is_none_or(|o| o.request_id.is_none());
        match payload {
            ErrorPayload::None if plain => {
                self.log_plain(level, message, (), options.map(|o| o.tags), flow)
            }
            ErrorPayload::Data(map) if plain => {
                self.log_plain(level, message, &map, options.map(|o| o.tags), flow)
            }
            payload => self.log_full(level, message, payload, options, flow, None),
        }
    }

    /// Whether a record of this level is to be logged: it passes
    /// `min_level` and sampling keeps it (one random draw per record: call
    /// once, where the record enters the client).
    #[inline]
    pub(crate) fn admits(&self, level: Level) -> bool {
        self.should_log(level) && self.config().hooks.sampled_in(level)
    }

    /// An error value (already admitted): its record carries a backtrace
    /// of this thread, captured now (unresolved) when the client's setting
    /// asks for one.
    pub(crate) fn log_error_value(
        &self,
        message: &str,
        payload: ErrorPayload,
        options: Option<LogOptions>,
        flow: Option<&Flow>,
    ) {
        let backtrace = self.config().backtrace.capture();
        self.log_full(Level::Error, message, payload, options, flow, backtrace);
    }

    /// A message with at most data and tags, the common case: its data and
    /// tags are rendered to JSON here, and the worker copies that text into
    /// the batch body.
    #[inline]
    fn log_plain(
        &self,
        level: Level,
        message: &str,
        data: impl Serialize,
        tags: Option<Vec<String>>,
        flow: Option<&Flow>,
    ) {
        let tags = tags.unwrap_or_default();
        let hooks = &self.config().hooks;
        if hooks.before_send.is_some() {
            // The hook sees whole records.
            let options = LogOptions {
                tags,
                request_id: None,
            };
            let payload = ErrorPayload::data(data);
            return self.log_full(level, message, payload, Some(options), flow, None);
        }
        // The ids were checked when set, the flow id when the flow began.
        let extra = check_message(message)
            .and_then(|()| check_tags(&tags))
            .map_err(Error::Validation)
            .and_then(|()| render_extra(data, &tags, hooks.redactor.as_deref()));
        match extra {
            Ok(extra) => self.log_rendered(level, CompactString::from(message), extra, flow),
            Err(e) => self.refuse(e),
        }
    }

    /// A plain record whose data (and tags) are already rendered as JSON
    /// members (`,"data":{..}`), with a valid message; already admitted.
    #[inline]
    pub(crate) fn log_rendered(
        &self,
        level: Level,
        message: CompactString,
        rendered: Vec<u8>,
        flow: Option<&Flow>,
    ) {
        let extra = if self.inner.has_defaults.load(Ordering::Acquire) {
            pending::extra(&self.inner.defaults.load().members, rendered)
        } else {
            pending::extra(&[], rendered)
        };
        let pending = Pending::Plain(Plain {
            level,
            message,
            timestamp: now_millis(),
            flow_id: flow.map(Flow::shared_id),
            extra,
            step_index: NO_STEP,
        });
        if let Err(e) = self.enqueue(pending, flow) {
            self.report_refusal(e);
        }
    }

    /// Any other record: built whole here, validated, queued boxed.
    fn log_full(
        &self,
        level: Level,
        message: &str,
        payload: ErrorPayload,
        options: Option<LogOptions>,
        flow: Option<&Flow>,
        backtrace: Option<Backtrace>,
    ) {
        let mut record = self.stamp(level, message.to_owned(), now_millis());
        match payload {
            ErrorPayload::None => {}
            ErrorPayload::Data(map) => record.data = Some(map),
            ErrorPayload::Error {
                name,
                stack,
                message,
            } => {
                record.error_name = Some(name);
                record.error_stack = Some(stack);
                record.data = Some(Map::from_iter([(
                    "message".to_owned(),
                    Value::String(message),
                )]));
            }
            ErrorPayload::Invalid(reason) => return self.refuse(Error::InvalidData(reason)),
        }
        if let Some(options) = options {
            record.tags = options.tags;
            record.request_id = options.request_id;
        }
        if let Err(e) = self.submit_traced(record, backtrace, flow) {
            self.report_refusal(e);
        }
    }

    pub(crate) fn log_entry(&self, entry: LogEntry, flow: Option<&Flow>) -> Result<(), Error> {
        let result = self.submit_entry(entry, flow);
        if let Err(e) = &result {
            self.report_refusal(e.clone());
        }
        result
    }

    pub(crate) fn submit_entry(&self, entry: LogEntry, flow: Option<&Flow>) -> Result<(), Error> {
        if !self.admits(entry.level) {
            return Ok(());
        }
        self.submit_admitted(entry, flow)
    }

    /// Logs an entry already admitted (by `min_level` and sampling);
    /// invalid input goes to `on_error`.
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    pub(crate) fn log_admitted(&self, entry: LogEntry, flow: Option<&Flow>) {
        if let Err(e) = self.submit_admitted(entry, flow) {
            self.report_refusal(e);
        }
    }

    /// Queues an entry already admitted (by `min_level` and sampling).
    pub(crate) fn submit_admitted(
        &self,
        entry: LogEntry,
        flow: Option<&Flow>,
    ) -> Result<(), Error> {
        let mut record = self.stamp(
            entry.level,
            entry.message,
            entry.timestamp.unwrap_or_else(now_millis),
        );
        record.data = entry.data;
        record.error_name = entry.error_name;
        record.error_stack = entry.error_stack;
        record.tags = entry.tags;
        record.request_id = entry.request_id;
        record.ip_address = entry.ip_address;
        record.country = entry.country;
        if let Some(v) = entry.user_id {
            record.user_id = Some(v.into());
        }
        if let Some(v) = entry.session_id {
            record.session_id = Some(v.into());
        }
        if let Some(v) = entry.dataset {
            record.dataset = Some(v.into());
        }
        if flow.is_none() {
            record.flow_id = entry.flow_id.map(Into::into);
            record.step_index = entry.step_index;
        }
        self.submit(record, flow)
    }

    /// A record with the caller-side defaults (the worker adds source,
    /// environment, version and dataset when it forms the batch).
    #[inline]
    fn stamp(&self, level: Level, message: String, timestamp: i64) -> LogRecord {
        let (user_id, session_id) = self.current_ids();
        LogRecord {
            level,
            message,
            user_id,
            session_id,
            timestamp: Some(timestamp),
            ..LogRecord::default()
        }
    }

    /// The default user and session ids of a record logged now.
    #[inline]
    fn current_ids(&self) -> (Option<Arc<str>>, Option<Arc<str>>) {
        if !self.inner.has_defaults.load(Ordering::Acquire) {
            return (None, None);
        }
        let defaults = self.inner.defaults.load();
        (defaults.user_id.clone(), defaults.session_id.clone())
    }

    /// Validates and queues; counts refusals.
    #[inline]
    fn submit(&self, record: LogRecord, flow: Option<&Flow>) -> Result<(), Error> {
        self.submit_traced(record, None, flow)
    }

    /// Validates and queues a record, with the backtrace the worker appends
    /// to its error stack; counts refusals.
    pub(crate) fn submit_traced(
        &self,
        mut record: LogRecord,
        backtrace: Option<Backtrace>,
        flow: Option<&Flow>,
    ) -> Result<(), Error> {
        if let Some(flow) = flow {
            record.flow_id = Some(flow.shared_id());
        }
        let hooks = &self.config().hooks;
        if hooks.before_send.is_some() || hooks.redactor.is_some() {
            record = match hooks.apply(record) {
                Ok(Some(record)) => record,
                Ok(None) => return Ok(()),
                Err(reason) => return Err(Error::InvalidData(reason.to_owned())),
            };
        }
        self.check(validate(&record))?;
        let pending = match backtrace {
            None => Pending::Full(Box::new(record)),
            Some(backtrace) => Pending::Traced(Box::new(Traced { record, backtrace })),
        };
        self.enqueue(pending, flow)
    }

    /// Counts a record refused by validation.
    fn check(&self, verdict: Result<(), ValidationError>) -> Result<(), Error> {
        verdict
            .map_err(Error::Validation)
            .inspect_err(|e| self.count_refusal(e))
    }

    /// Queues a checked record (assigning the flow's next step).
    #[inline]
    fn enqueue(&self, pending: Pending, flow: Option<&Flow>) -> Result<(), Error> {
        let result = self.inner.pipeline.push(pending, flow.map(Flow::steps));
        if let Err(e) = &result {
            self.count_refusal(e);
        }
        result
    }

    /// Counts a refused record (overflow is counted as dropped by the queue).
    fn count_refusal(&self, error: &Error) {
        if !matches!(error, Error::QueueFull { .. }) {
            self.inner.pipeline.count_invalid();
        }
    }

    fn refuse(&self, error: Error) {
        self.inner.pipeline.count_invalid();
        self.inner.pipeline.report(error);
    }

    /// Reports a refusal that `submit` already counted (overflow is reported
    /// once per burst by the queue itself).
    fn report_refusal(&self, error: Error) {
        if !matches!(error, Error::QueueFull { .. }) {
            self.inner.pipeline.report(error);
        }
    }
}

/// Disconnects its client when dropped; see [`Client::shutdown_guard`].
#[must_use = "the client is disconnected when the guard is dropped"]
#[derive(Debug)]
pub struct ShutdownGuard {
    client: Client,
}

impl Drop for ShutdownGuard {
    fn drop(&mut self) {
        let inner = &self.client.inner;
        let config = inner.pipeline.config();
        let close = inner.pipeline.close(config.shutdown_timeout);
        if may_wait(config, inner.worker) {
            let _ = crate::block_on::block_on(close);
        }
    }
}

fn check_flow_name(name: &str) -> Result<(), Error> {
    // The id adds 9 characters ("-" and 8 random ones) and must fit in 50.
    let n = name.chars().count();
    if n == 0 || n > limits::FLOW_ID - 9 {
        return Err(Error::Validation(ValidationError {
            field: "flow name".into(),
            violation: if n == 0 {
                Violation::TooShort
            } else {
                Violation::TooLong
            },
            limit: limits::FLOW_ID - 9,
            actual: n,
        }));
    }
    Ok(())
}
