//! Client configuration and its builder.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::spool::{Spool, SpoolConfig};
use crate::validate::limits;
use crate::{
    ApiKey, Client, ConfigError, Environment, Error, Level, RawFormat, RetryPolicy, Transport,
};

mod env;

pub use env::{EnvVar, ENV_VARS};

/// The public ingestion service.
pub const DEFAULT_BASE_URL: &str = "https://timberlogs-ingest.enaboapps.workers.dev";

/// Called with every error the client cannot return to a caller (invalid
/// input of a chaining method, failed deliveries, drops). Runs on the
/// caller's thread or on the client's worker thread: keep it short.
pub type OnError = Arc<dyn Fn(&Error) + Send + Sync>;

/// Checks a raw body before it is sent; `Err` carries the reason with its
/// position. `timber-format` provides one for every format.
pub type RawValidator = Arc<dyn Fn(RawFormat, &str) -> Result<(), String> + Send + Sync>;

/// Makes the transport of [`ClientBuilder::default_transport`].
type TransportFactory = Box<dyn FnOnce() -> Result<Arc<dyn Transport>, ConfigError> + Send + Sync>;

/// What happens when a record arrives and the queue is at its bound.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OverflowPolicy {
    /// Refuse the new record (counted as dropped).
    #[default]
    DropNewest,
    /// Discard the oldest queued record to make room (counted as dropped).
    DropOldest,
    /// Refuse the new record (counted as dropped) and have the worker move
    /// the queue to the on-disk spool, making room again while the service
    /// is unreachable. Needs [`ClientBuilder::spool`].
    Spool,
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
    /// Records per batch.
    pub batch_size: usize,
    /// Longest time a record waits in the queue before a send is attempted.
    pub flush_interval: Duration,
    /// Records below this level are dropped before anything else happens.
    pub min_level: Level,
    /// How failed sends are retried.
    pub retry: RetryPolicy,
    /// Most records waiting to be sent.
    pub queue_capacity: usize,
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
            .field("flush_interval", &self.flush_interval)
            .field("min_level", &self.min_level)
            .field("retry", &self.retry)
            .field("queue_capacity", &self.queue_capacity)
            .field("overflow", &self.overflow)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("spool", &self.spool)
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
    flush_interval: Duration,
    min_level: Level,
    retry: RetryPolicy,
    queue_capacity: usize,
    overflow: OverflowPolicy,
    shutdown_timeout: Duration,
    on_error: Option<OnError>,
    raw_validator: Option<RawValidator>,
    check_raw_bodies: bool,
    spool: Option<SpoolConfig>,
    transport: Option<Arc<dyn Transport>>,
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
            flush_interval: Duration::from_secs(5),
            min_level: Level::Debug,
            retry: RetryPolicy::default(),
            queue_capacity: 10_000,
            overflow: OverflowPolicy::DropNewest,
            shutdown_timeout: Duration::from_secs(5),
            on_error: None,
            raw_validator: None,
            check_raw_bodies: true,
            spool: None,
            transport: None,
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
    setter!(/// Records per batch (default 10).
        batch_size: usize);
    setter!(/// Send at least this often while records wait (default 5 s).
        flush_interval: Duration);
    setter!(/// Drop records below this level (default `debug`: keep all).
        min_level: Level);
    setter!(/// Retry policy (default 3 retries, 1 s doubling to 30 s, jitter).
        retry: RetryPolicy);
    setter!(/// Most records waiting to be sent (default 10,000).
        queue_capacity: usize);
    setter!(/// What to do at the queue bound (default: drop the newest).
        overflow: OverflowPolicy);
    setter!(/// Longest wait for delivery on disconnect or drop (default 5 s).
        shutdown_timeout: Duration);

    /// The ingestion service's base URL (default: the public service).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self.explicit.mark("base_url");
        self
    }

    /// Called with errors that cannot be returned (default: one line on stderr).
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
        let max_bytes = self.spool.as_ref().map_or(64 << 20, |s| s.max_bytes);
        self.spool = Some(SpoolConfig {
            dir: dir.into(),
            max_bytes,
        });
        self
    }

    /// Bounds the spool's size on disk.
    pub fn spool_max_bytes(mut self, max_bytes: u64) -> Self {
        if let Some(spool) = &mut self.spool {
            spool.max_bytes = max_bytes;
        }
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
        let base_url = self.base_url.trim_end_matches('/').to_owned();
        if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
            return Err(bad("base_url", "must start with https:// (or http://)"));
        }
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
        if self.queue_capacity < self.batch_size {
            return Err(bad("queue_capacity", "must be at least batch_size"));
        }
        if !(self.retry.multiplier.is_finite() && self.retry.multiplier >= 1.0) {
            return Err(bad("retry.multiplier", "must be a finite number >= 1"));
        }
        if self.overflow == OverflowPolicy::Spool && self.spool.is_none() {
            return Err(bad("overflow", "the Spool policy needs a spool directory"));
        }
        let transport = match (self.transport, self.default_transport) {
            (Some(transport), _) => transport,
            (None, Some(make)) => make()?,
            (None, None) => return Err(bad("transport", "is required")),
        };
        let on_error = self
            .on_error
            .unwrap_or_else(|| Arc::new(|e: &Error| eprintln!("timber: {e}")) as OnError);
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
            flush_interval: self.flush_interval,
            min_level: self.min_level,
            retry: self.retry,
            queue_capacity: self.queue_capacity,
            overflow: self.overflow,
            shutdown_timeout: self.shutdown_timeout,
            on_error,
            raw_validator: self.raw_validator,
            check_raw_bodies: self.check_raw_bodies,
            spool: self.spool,
        };
        Ok((config, transport))
    }
}
