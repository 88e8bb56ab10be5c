//! The validated [`Config`] a client runs with, and the types and defaults
//! of its settings.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::config::overflow::OverflowPolicy;
use crate::error::{ConfigError, Error};
use crate::hooks::Hooks;
use crate::record::backtrace::BacktraceMode;
use crate::record::environment::Environment;
use crate::record::level::Level;
use crate::record::raw::RawFormat;
use crate::rt::priority::ThreadPriority;
use crate::transport::api_key::ApiKey;
use crate::transport::port::Transport;
use crate::transport::retry::RetryPolicy;

/// The public ingestion service.
pub const DEFAULT_BASE_URL: &str = "https://timberlogs-ingest.enaboapps.workers.dev";

/// Records in one request under a backlog, unless configured: large enough
/// that per-request costs vanish (a million records a second over one
/// connection), small enough that a request stays well under a megabyte of
/// typical records.
pub(crate) const DEFAULT_MAX_BATCH_RECORDS: usize = 1_000;
pub(crate) const DEFAULT_MAX_BATCH_BYTES: usize = 1 << 20;
/// Room for any record the protocol allows with some data.
pub(crate) const MIN_BATCH_BYTES: usize = 16 << 10;
pub(crate) const MAX_IN_FLIGHT: usize = 64;

/// Called with every error the client cannot return to a caller (invalid
/// input of a chaining method, failed deliveries, drops).
///
/// The contract: it runs on the caller's thread or on the client's worker
/// thread, outside every lock of the client, so keep it short (while it
/// runs on the worker, nothing is delivered). It may log through the client
/// (what that logging would report is not reported again from inside the
/// callback: no recursion), read `stats()`, and call `flush()` or
/// `disconnect()`, which on the worker thread return at once with
/// [`Error::Timeout`] rather than wait for the worker they run on. To reach
/// the client from the callback, capture a [`WeakClient`](crate::WeakClient):
/// a `Client` captured there keeps the client alive, so dropping the
/// program's handles would never flush it. A panic in it is caught.
pub type OnError = Arc<dyn Fn(&Error) + Send + Sync>;

/// Checks a raw body before it is sent; `Err` carries the reason with its
/// position. `timber-format` provides one for every format.
pub type RawValidator = Arc<dyn Fn(RawFormat, &str) -> Result<(), String> + Send + Sync>;

/// Makes the transport of [`ClientBuilder::default_transport`].
pub(crate) type TransportFactory =
    Box<dyn FnOnce() -> Result<Arc<dyn Transport>, ConfigError> + Send + Sync>;

/// The validated configuration of a [`Client`](crate::Client). `Debug` never shows the key.
#[derive(Clone)]
#[non_exhaustive]
pub struct Config {
    /// Name of the emitting application.
    pub source: Arc<str>,
    /// Deployment environment.
    pub environment: Environment,
    /// The API key.
    pub api_key: ApiKey,
    /// Base URL of the ingestion service.
    pub base_url: String,
    /// Application version.
    pub version: Option<Arc<str>>,
    /// Initial default user id.
    pub user_id: Option<Arc<str>>,
    /// Initial default session id.
    pub session_id: Option<Arc<str>>,
    /// Default dataset.
    pub dataset: Option<Arc<str>>,
    /// Records waiting that trigger a send.
    pub batch_size: usize,
    /// Most records in one request, when more are waiting.
    pub max_batch_records: usize,
    /// Most bytes in one request body (a larger record is refused).
    pub max_batch_bytes: usize,
    /// Most requests on their way at once.
    pub max_in_flight: usize,
    /// Longest time a record waits in the queue before a send is attempted.
    pub flush_interval: Duration,
    /// Records below this level are dropped before anything else happens.
    pub min_level: Level,
    /// How failed sends are retried.
    pub retry: RetryPolicy,
    /// Most records waiting to be sent.
    pub queue_capacity: usize,
    /// Most bytes of records waiting to be sent.
    pub queue_max_bytes: usize,
    /// What to do at the bound.
    pub overflow: OverflowPolicy,
    /// Longest time `disconnect` (or dropping the client) waits for delivery.
    pub shutdown_timeout: Duration,
    /// The error callback.
    pub on_error: OnError,
    /// Checks raw bodies before sending.
    pub raw_validator: Option<RawValidator>,
    /// Whether raw bodies are checked before sending.
    pub check_raw_bodies: bool,
    /// The on-disk spool, when enabled.
    pub spool: Option<SpoolConfig>,
    /// Tells whether the current thread runs an async executor (see
    /// [`ClientBuilder::in_async_context`](crate::ClientBuilder::in_async_context)).
    pub in_async_context: Option<fn() -> bool>,
    /// The scheduling priority of the client's worker thread.
    pub thread_priority: ThreadPriority,
    /// When error records carry a backtrace.
    pub backtrace: BacktraceMode,
    /// Sampling, `before_send` and redaction.
    pub hooks: Hooks,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("source", &self.source)
            .field("environment", &self.environment)
            .field("api_key", &self.api_key)
            .field("base_url", &self.base_url)
            .field("version", &self.version)
            .field("user_id", &self.user_id)
            .field("session_id", &self.session_id)
            .field("dataset", &self.dataset)
            .field("batch_size", &self.batch_size)
            .field("max_batch_records", &self.max_batch_records)
            .field("max_batch_bytes", &self.max_batch_bytes)
            .field("max_in_flight", &self.max_in_flight)
            .field("flush_interval", &self.flush_interval)
            .field("min_level", &self.min_level)
            .field("retry", &self.retry)
            .field("queue_capacity", &self.queue_capacity)
            .field("queue_max_bytes", &self.queue_max_bytes)
            .field("overflow", &self.overflow)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("thread_priority", &self.thread_priority)
            .field("spool", &self.spool)
            .field("backtrace", &self.backtrace)
            .field("hooks", &self.hooks)
            .finish_non_exhaustive()
    }
}

/// Where and how much to spool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpoolConfig {
    /// The directory of the spool files (created if missing).
    pub dir: PathBuf,
    /// Most bytes the spool may hold; batches beyond are refused (and counted).
    pub max_bytes: u64,
}
