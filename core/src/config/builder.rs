//! [`ClientBuilder`]: every setting of a client, each with its default.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::config::env;
use crate::config::overflow::OverflowPolicy;
use crate::config::settings::{
    OnError, RawValidator, SpoolConfig, TransportFactory, DEFAULT_BASE_URL, DEFAULT_MAX_BATCH_BYTES,
};
use crate::error::{ConfigError, Error};
use crate::hooks::HookSettings;
use crate::record::backtrace::BacktraceMode;
use crate::record::environment::Environment;
use crate::record::level::Level;
use crate::rt::priority::ThreadPriority;
use crate::transport::port::Transport;
use crate::transport::retry::RetryPolicy;

/// Builds a [`Client`](crate::Client); every setting but `source`, `api_key` and the
/// transport has a default.
///
/// ```
/// use std::time::Duration;
/// use timber_core::{Client, Environment, Level};
/// # #[path = "../../tests/double/mod.rs"] mod double;
/// # use double::MockTransport;
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
    pub(crate) source: Option<String>,
    pub(crate) environment: Environment,
    pub(crate) api_key: Option<String>,
    pub(crate) base_url: String,
    pub(crate) version: Option<String>,
    pub(crate) user_id: Option<String>,
    pub(crate) session_id: Option<String>,
    pub(crate) dataset: Option<String>,
    pub(crate) batch_size: usize,
    pub(crate) max_batch_records: Option<usize>,
    pub(crate) max_batch_bytes: usize,
    pub(crate) max_in_flight: usize,
    pub(crate) flush_interval: Duration,
    pub(crate) min_level: Level,
    pub(crate) retry: RetryPolicy,
    pub(crate) queue_capacity: usize,
    pub(crate) queue_max_bytes: usize,
    pub(crate) overflow: OverflowPolicy,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) on_error: Option<OnError>,
    pub(crate) raw_validator: Option<RawValidator>,
    pub(crate) check_raw_bodies: bool,
    pub(crate) spool: Option<SpoolConfig>,
    pub(crate) spool_max_bytes: Option<u64>,
    pub(crate) in_async_context: Option<fn() -> bool>,
    pub(crate) thread_priority: ThreadPriority,
    pub(crate) transport: Option<Arc<dyn Transport>>,
    pub(crate) backtrace: BacktraceMode,
    pub(crate) hooks: HookSettings,
    pub(crate) default_transport: Option<TransportFactory>,
    /// The settings given by a builder call, which the environment does not override.
    pub(super) explicit: env::Explicit,
    /// The variables read by `from_env`/`with_env`.
    pub(super) env: Option<env::EnvVars>,
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
    /// [`spool_max_bytes`](Self::spool_max_bytes) says otherwise; the
    /// journal's segments have a bound of the same size).
    ///
    /// Every record is written ahead into the spool's journal, a
    /// memory-mapped file, before the logging call returns: a process that
    /// is killed (`kill -9`, the OOM killer, SIGTERM with its default
    /// disposition), aborts or crashes loses nothing; the next client on
    /// `dir` sends those records first, under the batches' own idempotency
    /// keys, and counts them in `Stats::recovered`. The same journal keeps
    /// what shutdown cannot deliver (sent first at the next start) and the
    /// queue that [`OverflowPolicy::Spool`](crate::OverflowPolicy::Spool) or
    /// `Block` move out of memory while the service is down (read back from
    /// it, in order, once deliveries succeed; while it holds them, a record
    /// it has no room for is dropped and counted). One client at a time
    /// uses a directory. A directory that cannot be written is an error at
    /// build; a journal that cannot be (a full disk) is reported once, and
    /// the client goes on in memory (with spool files for what shutdown
    /// leaves).
    pub fn spool(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.explicit.mark("spool");
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
    /// of an async `main`, await [`Client::disconnect_async`](crate::Client::disconnect_async) first, or the
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
    /// use timber_core::Client;
    /// use timber_core::transport::Transport;
    /// # #[path = "../../tests/double/mod.rs"] mod double;
    /// # use double::MockTransport;
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
}
