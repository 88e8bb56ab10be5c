//! Client configuration and its builder.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::hooks::HookSettings;
use crate::spool::{Spool, SpoolConfig};
use crate::validate::limits;
use crate::{
    ApiKey, BacktraceMode, Client, ConfigError, Environment, Error, Hooks, Level, RawFormat,
    RetryPolicy, ThreadPriority, Transport,
};

mod env;

pub use env::{EnvVar, ENV_VARS};

/// The public ingestion service.
pub const DEFAULT_BASE_URL: &str = "https://timberlogs-ingest.enaboapps.workers.dev";

/// Records in one request under a backlog, unless configured: large enough
/// that per-request costs vanish (a million records a second over one
/// connection), small enough that a request stays well under a megabyte of
/// typical records.
const DEFAULT_MAX_BATCH_RECORDS: usize = 1_000;
const DEFAULT_MAX_BATCH_BYTES: usize = 1 << 20;
/// Room for any record the protocol allows with some data.
const MIN_BATCH_BYTES: usize = 16 << 10;
const MAX_IN_FLIGHT: usize = 64;

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
type TransportFactory = Box<dyn FnOnce() -> Result<Arc<dyn Transport>, ConfigError> + Send + Sync>;

/// What happens when a record arrives and the queue is at its bound.
///
/// Which suits which program:
/// - [`Block`](Self::Block) (the default): nothing is lost to a burst that
///   the service can absorb. A caller that finds the queue full waits, up
///   to `max_wait`, for the worker to take the next batch; the queue drains
///   at the network's pace (over a million records a second to a nearby
///   service). The wait is only ever for room, never for the network
///   directly, never on the client's own threads, and never while
///   deliveries are failing: when the service is down, records are dropped
///   at once rather than slow the program down.
/// - [`DropNewest`](Self::DropNewest): no log call ever waits; a burst
///   beyond the queue loses its newest records. For latency-critical code
///   (async executors serving requests with tight budgets) that prefers
///   losing logs to ever pausing.
/// - [`DropOldest`](Self::DropOldest): as `DropNewest`, but keeps the most
///   recent records, for programs where the latest state matters most.
/// - [`Spool`](Self::Spool): the queue moves to disk instead of being
///   dropped, for long outages of the service; needs
///   [`ClientBuilder::spool`].
///
/// Every record dropped is counted (`Stats::dropped`) and reported: once
/// when a burst of drops begins ([`Error::QueueFull`]) and once when it
/// ends, with its total ([`Error::Dropped`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OverflowPolicy {
    /// Wait up to `max_wait` for room while deliveries succeed, then drop
    /// the new record (counted as dropped).
    Block {
        /// Longest wait of one call (cut to a day).
        max_wait: Duration,
    },
    /// Refuse the new record (counted as dropped).
    DropNewest,
    /// Discard the oldest queued record to make room (counted as dropped).
    DropOldest,
    /// Refuse the new record (counted as dropped) and have the worker move
    /// the queue to the on-disk spool, making room again while the service
    /// is unreachable. Needs [`ClientBuilder::spool`].
    Spool,
}

impl Default for OverflowPolicy {
    fn default() -> Self {
        OverflowPolicy::Block {
            max_wait: Duration::from_millis(100),
        }
    }
}

/// The validated configuration of a [`Client`]. `Debug` never shows the key.
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
    /// [`ClientBuilder::in_async_context`]).
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

/// Builds a [`Client`]; every setting but `source`, `api_key` and the
/// transport has a default.
///
/// ```
/// use std::time::Duration;
/// use timber_core::{Client, Environment, Level};
/// use timber_core::mock::MockTransport;
///
/// let client = Client::builder()
///     .source("billing")
///     .environment(Environment::Staging)
///     .api_key("tb_test_123")
///     .version("1.4.2")
///     .batch_size(50)
///     .flush_interval(Duration::from_secs(1))
///     .min_level(Level::Info)
///     .on_error(|e| eprintln!("logging failed: {e}"))
///     .transport(MockTransport::new())
///     .build()
///     .unwrap();
/// assert!(!client.should_log(Level::Debug));
///
/// let err = Client::builder().source("x").api_key("k").batch_size(0)
///     .transport(MockTransport::new()).build().unwrap_err();
/// assert_eq!(err.to_string(), "invalid configuration: batch_size: must be at least 1");
/// ```
#[must_use]
pub struct ClientBuilder {
    source: Option<String>,
    environment: Environment,
    api_key: Option<String>,
    base_url: String,
    version: Option<String>,
    user_id: Option<String>,
    session_id: Option<String>,
    dataset: Option<String>,
    batch_size: usize,
    max_batch_records: Option<usize>,
    max_batch_bytes: usize,
    max_in_flight: usize,
    flush_interval: Duration,
    min_level: Level,
    retry: RetryPolicy,
    queue_capacity: usize,
    queue_max_bytes: usize,
    overflow: OverflowPolicy,
    shutdown_timeout: Duration,
    on_error: Option<OnError>,
    raw_validator: Option<RawValidator>,
    check_raw_bodies: bool,
    spool: Option<SpoolConfig>,
    spool_max_bytes: Option<u64>,
    in_async_context: Option<fn() -> bool>,
    thread_priority: ThreadPriority,
    transport: Option<Arc<dyn Transport>>,
    backtrace: BacktraceMode,
    pub(crate) hooks: HookSettings,
    default_transport: Option<TransportFactory>,
    /// The settings given by a builder call, which the environment does not override.
    explicit: env::Explicit,
    /// The variables read by `from_env`/`with_env`.
    env: Option<env::EnvVars>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            source: None,
            environment: Environment::Production,
            api_key: None,
            base_url: DEFAULT_BASE_URL.to_owned(),
            version: None,
            user_id: None,
            session_id: None,
            dataset: None,
            batch_size: 10,
            max_batch_records: None,
            max_batch_bytes: DEFAULT_MAX_BATCH_BYTES,
            max_in_flight: 4,
            flush_interval: Duration::from_secs(5),
            min_level: Level::Debug,
            retry: RetryPolicy::default(),
            queue_capacity: 10_000,
            queue_max_bytes: 64 << 20,
            overflow: OverflowPolicy::default(),
            shutdown_timeout: Duration::from_secs(5),
            on_error: None,
            raw_validator: None,
            check_raw_bodies: true,
            spool: None,
            spool_max_bytes: None,
            in_async_context: None,
            thread_priority: ThreadPriority::default(),
            transport: None,
            backtrace: BacktraceMode::Always,
            hooks: HookSettings::default(),
            default_transport: None,
            explicit: env::Explicit::default(),
            env: None,
        }
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("source", &self.source)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

macro_rules! setter {
    ($(#[$doc:meta])* $name:ident: $ty:ty) => {
        $(#[$doc])*
        pub fn $name(mut self, value: $ty) -> Self {
            self.$name = value;
            self.explicit.mark(stringify!($name));
            self
        }
    };
    ($(#[$doc:meta])* $name:ident: into $ty:ty) => {
        $(#[$doc])*
        pub fn $name(mut self, value: impl Into<$ty>) -> Self {
            self.$name = Some(value.into());
            self.explicit.mark(stringify!($name));
            self
        }
    };
}

impl ClientBuilder {
    setter!(/// The emitting application (required, 1 to 100 characters).
        source: into String);
    setter!(/// The deployment environment (default `production`).
        environment: Environment);
    setter!(/// The API key (required).
        api_key: into String);
    setter!(/// The application version stamped on every record.
        version: into String);
    setter!(/// The initial default user id.
        user_id: into String);
    setter!(/// The initial default session id.
        session_id: into String);
    setter!(/// The default dataset.
        dataset: into String);
    setter!(/// Records waiting that trigger a send (default 10): a batch goes
        /// once this many records wait (or at the interval, a flush or
        /// shutdown). When more are waiting, they go together, up to
        /// [`max_batch_records`](Self::max_batch_records).
        batch_size: usize);
    setter!(/// Most bytes in one request body (default 1 MiB, well below what
        /// ingestion services accept). A record larger than this is refused
        /// when logged.
        max_batch_bytes: usize);
    setter!(/// Most requests on their way at once (default 4, 1 to 64). Batches
        /// leave in queue order; those in flight together may be stored in
        /// either order (a record can be stored after at most
        /// `max_in_flight - 1` batches queued after it). After a failure,
        /// nothing goes until the failed batch is through. `1` stores every
        /// batch in queue order.
        max_in_flight: usize);
    setter!(/// Send at least this often while records wait (default 5 s).
        flush_interval: Duration);
    setter!(/// Drop records below this level (default `debug`: keep all).
        min_level: Level);
    setter!(/// Retry policy (default 3 retries, 1 s doubling to 30 s, jitter).
        retry: RetryPolicy);
    setter!(/// Most records waiting to be sent (default 10,000).
        queue_capacity: usize);
    setter!(/// Most bytes of records waiting to be sent (default 64 MiB).
        queue_max_bytes: usize);
    setter!(/// What to do at the queue bound (default: wait up to 100 ms for
        /// room while deliveries succeed, then drop; see [`OverflowPolicy`]).
        overflow: OverflowPolicy);

    /// Most records in one request (default 1,000, or `batch_size` if
    /// larger): under a backlog, the worker sends this many together.
    pub fn max_batch_records(mut self, max: usize) -> Self {
        self.max_batch_records = Some(max);
        self
    }
    setter!(/// Longest wait for delivery on disconnect or drop (default 5 s).
        shutdown_timeout: Duration);
    setter!(/// When error records carry a backtrace (default: always; the caller
        /// only captures it, the worker resolves it; see [`BacktraceMode`]).
        backtrace: BacktraceMode);

    /// The ingestion service's base URL (default: the public service).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self.explicit.mark("base_url");
        self
    }

    /// Called with errors that cannot be returned (default: one line on
    /// stderr, written by a thread of its own, so that a stderr nobody reads
    /// never blocks the program; see [`OnError`] for what it may do).
    pub fn on_error(mut self, callback: impl Fn(&Error) + Send + Sync + 'static) -> Self {
        self.on_error = Some(Arc::new(callback));
        self
    }

    /// Checks raw bodies with this function before `ingest_raw` sends them
    /// (default: no check; `timber_format::validator()` parses every format,
    /// and the `timber-sdk` facade installs it).
    pub fn raw_validator(mut self, validator: RawValidator) -> Self {
        self.raw_validator = Some(validator);
        self
    }

    /// Checks raw bodies with `validator` unless
    /// [`raw_validator`](Self::raw_validator) gives another, before or after
    /// this call (the `timber-sdk` facade gives `timber_format::validator()`
    /// this way).
    pub fn default_raw_validator(mut self, validator: RawValidator) -> Self {
        self.raw_validator.get_or_insert(validator);
        self
    }

    /// Whether `ingest_raw` checks a body with the
    /// [`raw_validator`](Self::raw_validator) before sending it (default: yes).
    pub fn check_raw_bodies(mut self, check: bool) -> Self {
        self.check_raw_bodies = check;
        self
    }

    /// Enables the on-disk spool in `dir` (64 MiB at most unless
    /// [`spool_max_bytes`](Self::spool_max_bytes) says otherwise): batches
    /// undeliverable at shutdown are written there and sent first at the
    /// next start.
    pub fn spool(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        let max_bytes = self.spool_max_bytes.unwrap_or(64 << 20);
        self.spool = Some(SpoolConfig {
            dir: dir.into(),
            max_bytes,
        });
        self
    }

    /// Bounds the spool's size on disk (default 64 MiB), before or after
    /// [`spool`](Self::spool).
    pub fn spool_max_bytes(mut self, max_bytes: u64) -> Self {
        self.spool_max_bytes = Some(max_bytes);
        if let Some(spool) = &mut self.spool {
            spool.max_bytes = max_bytes;
        }
        self
    }

    /// How to tell that the current thread is running an async executor
    /// (for tokio: `|| tokio::runtime::Handle::try_current().is_ok()`; the
    /// hyper transport crate has it as `in_tokio_runtime`). Dropping the
    /// last handle (or a [`ShutdownGuard`](crate::ShutdownGuard)) there
    /// does not wait for the final delivery, which would stall every task
    /// of that thread: the worker finishes it in the background. At the end
    /// of an async `main`, await [`Client::disconnect_async`] first, or the
    /// program may exit before the worker is done. Without a check (the
    /// default), the drop waits up to the shutdown timeout.
    pub fn in_async_context(mut self, check: fn() -> bool) -> Self {
        self.in_async_context = Some(check);
        self
    }

    /// [`in_async_context`](Self::in_async_context), unless one was given
    /// (for layers that add defaults, like the `timber-sdk` facade).
    pub fn default_in_async_context(mut self, check: fn() -> bool) -> Self {
        self.in_async_context.get_or_insert(check);
        self
    }

    /// The scheduling priority of the client's worker thread, which writes
    /// batches and runs the callbacks: [`ThreadPriority::Background`] (the
    /// default) lets the application's threads win a busy core, so that
    /// logging slows delivery rather than the program.
    /// [`ThreadPriority::Normal`] competes on equal terms.
    pub fn thread_priority(mut self, priority: ThreadPriority) -> Self {
        self.thread_priority = priority;
        self
    }

    /// The transport that carries requests (required).
    pub fn transport(mut self, transport: impl Transport) -> Self {
        self.transport = Some(Arc::new(transport));
        self
    }

    /// A transport already shared behind an `Arc`.
    pub fn shared_transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Makes the transport with `make` at [`build`](Self::build) if none was
    /// given with [`transport`](Self::transport) (the `timber-sdk` facade
    /// gives the HTTPS transport this way). Nothing is made when the
    /// configuration is invalid; an `Err` of `make` fails the build.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use timber_core::{Client, Transport};
    /// use timber_core::mock::MockTransport;
    ///
    /// let mock = MockTransport::new();
    /// let fallback = mock.clone();
    /// let client = Client::builder()
    ///     .source("s")
    ///     .api_key("k")
    ///     .default_transport(move || Ok(Arc::new(fallback) as Arc<dyn Transport>))
    ///     .build()?;
    /// client.info("through the default transport", (), None).flush()?;
    /// assert_eq!(mock.count(), 1);
    /// # Ok::<(), timber_core::Error>(())
    /// ```
    pub fn default_transport(
        mut self,
        make: impl FnOnce() -> Result<Arc<dyn Transport>, ConfigError> + Send + Sync + 'static,
    ) -> Self {
        self.default_transport = Some(Box::new(make));
        self
    }

    /// Validates the configuration and starts the client's worker.
    pub fn build(self) -> Result<Client, Error> {
        let (config, transport) = self.into_config()?;
        let spool = match &config.spool {
            Some(spool) => Some(Spool::open(spool).map_err(|e| ConfigError {
                field: "spool",
                reason: format!("cannot open {}: {e}", spool.dir.display()),
            })?),
            None => None,
        };
        Ok(Client::start(config, transport, spool)?)
    }

    fn into_config(self) -> Result<(Config, Arc<dyn Transport>), ConfigError> {
        let this = self.apply_env()?;
        this.check_config()
    }

    fn check_config(self) -> Result<(Config, Arc<dyn Transport>), ConfigError> {
        let bad = |field: &'static str, reason: &str| ConfigError {
            field,
            reason: reason.to_owned(),
        };
        let source = self.source.ok_or_else(|| bad("source", "is required"))?;
        if source.is_empty() || source.chars().count() > limits::SOURCE {
            return Err(bad("source", "must be 1 to 100 characters"));
        }
        let api_key = self.api_key.ok_or_else(|| bad("api_key", "is required"))?;
        if api_key.trim().is_empty() {
            return Err(bad("api_key", "must not be empty"));
        }
        if let Err(reason) = env::check_header_safe(&api_key) {
            return Err(bad("api_key", reason));
        }
        let base_url = check_base_url(&self.base_url).map_err(|reason| bad("base_url", reason))?;
        let optional = |field: &'static str, value: Option<String>, max: usize| match value {
            Some(v) if v.chars().count() > max => {
                Err(bad(field, &format!("must be at most {max} characters")))
            }
            v => Ok(v.map(Arc::<str>::from)),
        };
        let version = optional("version", self.version, limits::ID)?;
        let user_id = optional("user_id", self.user_id, limits::ID)?;
        let session_id = optional("session_id", self.session_id, limits::ID)?;
        let dataset = optional("dataset", self.dataset, limits::DATASET)?;
        if self.batch_size == 0 {
            return Err(bad("batch_size", "must be at least 1"));
        }
        if self.flush_interval.is_zero() {
            return Err(bad("flush_interval", "must be more than zero"));
        }
        let max_batch_records = self
            .max_batch_records
            .unwrap_or(DEFAULT_MAX_BATCH_RECORDS.max(self.batch_size));
        if max_batch_records < self.batch_size {
            return Err(bad("max_batch_records", "must be at least batch_size"));
        }
        if self.max_batch_bytes < MIN_BATCH_BYTES {
            return Err(bad("max_batch_bytes", "must be at least 16 KiB"));
        }
        if !(1..=MAX_IN_FLIGHT).contains(&self.max_in_flight) {
            return Err(bad("max_in_flight", "must be 1 to 64"));
        }
        if self.queue_capacity < self.batch_size {
            return Err(bad("queue_capacity", "must be at least batch_size"));
        }
        if self.queue_max_bytes < self.max_batch_bytes {
            return Err(bad("queue_max_bytes", "must be at least max_batch_bytes"));
        }
        if !(self.retry.multiplier.is_finite() && self.retry.multiplier >= 1.0) {
            return Err(bad("retry.multiplier", "must be a finite number >= 1"));
        }
        if self.overflow == OverflowPolicy::Spool && self.spool.is_none() {
            return Err(bad("overflow", "the Spool policy needs a spool directory"));
        }
        if self.spool_max_bytes.is_some() && self.spool.is_none() {
            return Err(bad(
                "spool_max_bytes",
                "needs a spool directory (spool(dir))",
            ));
        }
        let transport = match (self.transport, self.default_transport) {
            (Some(transport), _) => transport,
            (None, Some(make)) => make()?,
            (None, None) => return Err(bad("transport", "is required")),
        };
        let on_error = self.on_error.unwrap_or_else(to_stderr);
        let config = Config {
            source: source.into(),
            environment: self.environment,
            api_key: ApiKey::new(api_key),
            base_url,
            version,
            user_id,
            session_id,
            dataset,
            batch_size: self.batch_size,
            max_batch_records,
            max_batch_bytes: self.max_batch_bytes,
            max_in_flight: self.max_in_flight,
            flush_interval: self.flush_interval,
            min_level: self.min_level,
            retry: self.retry,
            queue_capacity: self.queue_capacity,
            queue_max_bytes: self.queue_max_bytes,
            overflow: self.overflow,
            shutdown_timeout: self.shutdown_timeout,
            on_error,
            raw_validator: self.raw_validator,
            check_raw_bodies: self.check_raw_bodies,
            spool: self.spool,
            in_async_context: self.in_async_context,
            thread_priority: self.thread_priority,
            backtrace: self.backtrace,
            hooks: self.hooks.build()?,
        };
        Ok((config, transport))
    }
}

/// The base URL without its trailing slashes, or why it is refused: it must
/// be `http(s)://host[:port][/path]`, since requests append their own path
/// and query, and the key goes in a header, never in the URL (where errors
/// and logs would show it).
fn check_base_url(url: &str) -> Result<String, &'static str> {
    let url = url.trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("must start with https:// (or http://)")?;
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() {
        return Err("has no host");
    }
    if host.contains('@') {
        return Err("must not hold a user name or password (the API key goes in api_key)");
    }
    if rest.contains(['?', '#']) {
        return Err("must not have a query or fragment (requests add their own)");
    }
    if !rest.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("must be visible ASCII characters only (escape the rest as URLs do)");
    }
    Ok(url.to_owned())
}

/// The default `on_error`: one line per error on stderr, written by a thread
/// of its own. A stderr pipe that nobody drains then blocks that thread
/// only; while it is blocked, at most 256 lines wait and later ones are
/// skipped (the counters still count everything).
fn to_stderr() -> OnError {
    use std::io::Write;
    use std::sync::mpsc::{sync_channel, SyncSender};
    use std::sync::OnceLock;
    static LINES: OnceLock<Option<SyncSender<String>>> = OnceLock::new();
    let lines = LINES.get_or_init(|| {
        let (tx, rx) = sync_channel::<String>(256);
        std::thread::Builder::new()
            .name("timber-stderr".into())
            .spawn(move || {
                for line in rx {
                    let _ = writeln!(std::io::stderr(), "{line}");
                }
            })
            .ok()?;
        Some(tx)
    });
    Arc::new(move |e: &Error| {
        if let Some(lines) = lines {
            let _ = lines.try_send(format!("timber: {e}"));
        }
    })
}
