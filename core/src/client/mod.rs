//! The client handle: the logging API callers use ([`calls`]), the one
//! path from a call to the queue ([`emit`]), flows, raw ingestion, the
//! global client and the panic hook.

pub(crate) mod build;
pub(crate) mod calls;
pub(crate) mod data_writer;
pub(crate) mod defaults;
pub(crate) mod emit;
pub(crate) mod error_arg;
pub(crate) mod flow;
pub(crate) mod global;
pub(crate) mod last_words;
pub(crate) mod panic_hook;
pub(crate) mod raw;

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::thread::{self, ThreadId};
use std::time::Duration;

use arc_swap::ArcSwap;

use crate::config::builder::ClientBuilder;
use crate::config::settings::Config;
use crate::error::{ConfigError, Error};
use crate::pipeline::shared::Pipeline;
use crate::pipeline::spool::Spool;
use crate::pipeline::stats::Stats;
use crate::record::level::Level;
use crate::record::record::Record;
use crate::rt::block_on::{block_on, block_on_timeout};
use crate::rt::clock;
use crate::transport::port::Transport;
use defaults::Ids;

/// The logging client: a cheap `Clone + Send + Sync` handle.
///
/// Logging calls validate, stamp and queue the record, and return at once;
/// a background worker batches and sends. Dropping the last handle flushes
/// what is queued within the shutdown timeout.
///
/// ```
/// use serde_json::json;
/// # #[path = "../../tests/double/mod.rs"] mod double;
/// # use double::MockTransport;
/// use timber_core::{Client, Level, LogOptions};
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
        close_on_drop(&self.pipeline, self.worker);
    }
}

/// Closes the client within the shutdown timeout, waiting for it unless
/// waiting is wrong here: on the worker thread itself (a callback held the
/// last handle: it would wait forever), and inside an async executor (it
/// would stall every task of that thread); there the worker delivers in the
/// background.
fn close_on_drop(pipeline: &Pipeline, worker: ThreadId) {
    let config = pipeline.config();
    let close = pipeline.close(config.shutdown_timeout);
    let in_async = config.in_async_context.is_some_and(|check| check());
    if thread::current().id() != worker && !in_async {
        let _ = block_on(close);
    }
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
        let (pipeline, worker) =
            crate::pipeline::start(config, transport, spool).map_err(|e| ConfigError {
                field: "worker",
                reason: format!("cannot start the worker thread: {e}"),
            })?;
        Ok(Client {
            inner: Arc::new(Inner {
                pipeline,
                has_defaults: AtomicBool::new(defaults.is_set()),
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
        if let Some(Err(e)) = value.map(|v| crate::record::validate::check_id(field, v)) {
            self.count_invalid();
            self.report(Error::Validation(e));
            return;
        }
        let value: Option<Arc<str>> = value.map(Arc::from);
        self.inner.has_defaults.store(true, Ordering::Release);
        self.inner
            .defaults
            .rcu(|current| with(current, value.clone()));
    }

    /// Gives a new record the default user and session ids.
    #[inline]
    pub(crate) fn stamp_defaults(&self, record: &mut Record) {
        if self.inner.has_defaults.load(Ordering::Acquire) {
            let defaults = self.inner.defaults.load();
            record.set_shared_ids(defaults.user_id.clone(), defaults.session_id.clone());
        }
    }

    /// Queues a checked record (assigning the flow's next step).
    #[inline]
    pub(crate) fn enqueue(
        &self,
        record: &mut Record,
        steps: Option<&AtomicU32>,
    ) -> Result<(), Error> {
        self.inner.pipeline.push(record, steps)
    }

    pub(crate) fn count_invalid(&self) {
        self.inner.pipeline.count_invalid();
    }

    /// Reports to `on_error`.
    pub(crate) fn report(&self, error: Error) {
        self.inner.pipeline.report(error);
    }

    pub(crate) fn pipeline(&self) -> &Pipeline {
        &self.inner.pipeline
    }

    /// Sends everything queued so far and waits for the outcome. A batch
    /// that fails every retry stays queued and its error is returned.
    /// Returns the client, so that calls chain:
    ///
    /// ```
    /// # #[path = "../../tests/double/mod.rs"] mod double;
    /// # use double::MockTransport;
    /// # use timber_core::Client;
    /// # let mock = MockTransport::new();
    /// # let client = Client::builder().source("s").api_key("k").transport(mock.clone()).build()?;
    /// client.info("one", (), None).flush()?.info("two", (), None).disconnect()?;
    /// assert_eq!(mock.count(), 2);
    /// # Ok::<(), timber_core::Error>(())
    /// ```
    pub fn flush(&self) -> Result<&Self, Error> {
        self.flush_timeout(clock::LONGEST)
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
        block_on_timeout(flush, timeout)
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
        block_on(close).map(|()| self)
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
    /// # #[path = "../../tests/double/mod.rs"] mod double;
    /// # use double::MockTransport;
    /// # use timber_core::Client;
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
    /// # #[path = "../../tests/double/mod.rs"] mod double;
    /// # use double::MockTransport;
    /// # use timber_core::Client;
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
        close_on_drop(&inner.pipeline, inner.worker);
    }
}
