//! [`TimberLogger`]: the `log::Log`.

use log::kv::{self, Key, VisitSource};
use log::{LevelFilter, Log, Metadata, Record, SetLoggerError};
use timber_core::integration::{
    error_fields, message_or, IgnoredTargets, Reentry, Sink, MODULE_KEY, TARGET_KEY,
};
use timber_core::{Client, DataWriter, Level};

/// A [`log::Log`] that sends records through a [`Client`].
///
/// `trace` and `debug` become `debug`; the formatted arguments become the
/// message; the record's key-values (`log::info!(user = 42; "..")`) go to
/// `data`, keeping their JSON type (the client's redaction applies). A
/// key-value that is an error (`err:err`) fills `errorName` and
/// `errorStack`. The record's target and module go to `data` (`target`,
/// `module`) only when asked for ([`with_target`](Self::with_target),
/// [`with_module`](Self::with_module)).
///
/// Logging never blocks: records are validated, queued and sent by the
/// client's worker. For the same reason [`Log::flush`] does nothing: keep a
/// [`Client`] handle and call [`Client::flush`] or [`Client::disconnect`]
/// before exit. Records from the SDK's own threads (`timber-…`), from inside
/// the SDK (an `on_error` callback that logs) and from the targets in
/// [`DEFAULT_IGNORED_TARGETS`](timber_core::integration::DEFAULT_IGNORED_TARGETS)
/// are dropped, so the SDK never logs into itself.
///
/// **With `tracing`.** `log` has one global logger. When the program also
/// uses `tracing`, `tracing_subscriber`'s `init()` installs `tracing-log`'s
/// `LogTracer` as that logger, which hands `log` records on to `tracing`
/// without their key-values (`tracing-log` 0.2): a `TimberLayer`
/// (`timber-tracing`) then gets their message but not their data. To keep
/// them, install the subscriber with `set_global_default` (or `try_init`
/// with `tracing-subscriber`'s `tracing-log` feature off) and this logger
/// with `forward_to_tracing` (feature `tracing`):
/// it logs each record through the client with its key-values, and hands it
/// on to `tracing` as `LogTracer` would, for the other layers (the layer of
/// the same client skips those, so nothing is logged twice).
///
/// ```
/// use timber_core::{Client, Level};
/// use timber_log::TimberLogger;
/// use timber_transport_mock::MockTransport;
///
/// let mock = MockTransport::new();
/// let client = Client::builder()
///     .source("api")
///     .api_key("tb_test_key")
///     .min_level(Level::Info)
///     .transport(mock.clone())
///     .build()?;
/// TimberLogger::new(client.clone()).with_target(true).try_init().expect("no other logger is set");
/// assert_eq!(log::max_level(), log::LevelFilter::Info);
///
/// log::info!(target: "api::http", status = 200; "request served");
/// log::debug!("below min_level: skipped");
/// client.flush()?;
///
/// let record = mock.last().unwrap();
/// assert_eq!(record.message, "request served");
/// let data = record.data.unwrap();
/// assert_eq!((data["status"].as_u64(), data["target"].as_str()), (Some(200), Some("api::http")));
/// # Ok::<(), timber_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct TimberLogger {
    sink: Sink,
    ignored: IgnoredTargets,
    with_target: bool,
    with_module: bool,
    #[cfg(feature = "tracing")]
    tracer: Option<std::sync::Arc<tracing_log::LogTracer>>,
}

impl TimberLogger {
    /// A logger sending through `client`, ignoring the default targets.
    pub fn new(client: Client) -> Self {
        Self::with_sink(Sink::Client(client))
    }

    /// A logger sending through the global client ([`timber_core::set_global`],
    /// or `timber_sdk::init`), whichever it is when each record comes;
    /// records are dropped while none is set. It can be installed before
    /// the client exists; its [`max_level`](Self::max_level) then lets
    /// every level through.
    ///
    /// ```
    /// use timber_core::{set_global, Client};
    /// use timber_log::TimberLogger;
    /// use timber_transport_mock::MockTransport;
    ///
    /// let mock = MockTransport::new();
    /// let guard = set_global(Client::builder().source("s").api_key("k").transport(mock.clone()).build()?);
    /// TimberLogger::global().try_init().expect("no other logger is set");
    /// log::warn!(attempt = 2; "retrying");
    /// drop(guard); // flushes
    /// assert_eq!(mock.records()[0].message, "retrying");
    /// # Ok::<(), timber_core::Error>(())
    /// ```
    pub fn global() -> Self {
        Self::with_sink(Sink::Global)
    }

    fn with_sink(sink: Sink) -> Self {
        TimberLogger {
            sink,
            ignored: IgnoredTargets::default(),
            with_target: false,
            with_module: false,
            #[cfg(feature = "tracing")]
            tracer: None,
        }
    }

    /// Whether each record's `data` gets the record's target under `target`
    /// (default: no). A key-value of that name wins.
    pub fn with_target(mut self, yes: bool) -> Self {
        self.with_target = yes;
        self
    }

    /// Whether each record's `data` gets the record's module path under
    /// `module` (default: no). A key-value of that name wins.
    pub fn with_module(mut self, yes: bool) -> Self {
        self.with_module = yes;
        self
    }

    /// Also hands every record on to `tracing`, as `tracing-log`'s
    /// `LogTracer` does, so that the subscriber's other layers (a console
    /// `fmt` layer) see `log` records too while this logger keeps their
    /// key-values; a `TimberLayer` (`timber-tracing`) skips the records
    /// this logger hands on, so nothing is logged twice (default: no).
    /// Install the subscriber first: [`try_init`](Self::try_init) then sets
    /// `log`'s max level to the more verbose of the client's `min_level`
    /// and the subscriber's.
    ///
    /// ```no_run
    /// use tracing_subscriber::layer::SubscriberExt;
    /// use timber_core::Client;
    /// use timber_log::TimberLogger;
    /// use timber_tracing::TimberLayer;
    /// # use timber_transport_mock::MockTransport as HyperTransport;
    ///
    /// let client = Client::builder().source("api").api_key("k")
    ///     .transport(HyperTransport::new()).build()?;
    /// let subscriber = tracing_subscriber::registry()
    ///     .with(tracing_subscriber::fmt::layer())
    ///     .with(TimberLayer::new(client.clone()).filtered());
    /// // Not `init()`: with tracing-subscriber's `tracing-log` feature it
    /// // installs `LogTracer`, which drops key-values.
    /// tracing::subscriber::set_global_default(subscriber)?;
    /// TimberLogger::new(client).forward_to_tracing(true).try_init()?;
    ///
    /// log::info!(user = 42; "signed in"); // to Timber with data.user, and to the console
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "tracing")]
    pub fn forward_to_tracing(mut self, yes: bool) -> Self {
        self.tracer = yes.then(|| std::sync::Arc::new(tracing_log::LogTracer::new()));
        self
    }

    /// Whether the client wants a record of this level and target.
    fn wants(&self, metadata: &Metadata<'_>) -> bool {
        self.sink
            .with(|client| client.should_log(level_of(metadata.level())))
            == Some(true)
            && !self.ignored.matches(metadata.target())
    }

    /// Also ignores records of this target (and its submodules; an entry
    /// ending in `_` matches every crate name starting with it).
    pub fn ignore_target(mut self, target: impl Into<String>) -> Self {
        self.ignored.add(target.into());
        self
    }

    /// Replaces the whole list of ignored targets.
    pub fn ignored_targets<I, S>(mut self, targets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.ignored.replace(targets);
        self
    }

    /// The `log` filter matching the client's `min_level` (`Debug` lets
    /// `trace` through too, since trace records become debug ones); when
    /// forwarding to `tracing`, the more verbose of that and the current
    /// subscriber's.
    pub fn max_level(&self) -> LevelFilter {
        let mine = match self.sink.with(|client| client.config().min_level) {
            None | Some(Level::Debug) => LevelFilter::Trace,
            Some(Level::Info) => LevelFilter::Info,
            Some(Level::Warn) => LevelFilter::Warn,
            Some(Level::Error) => LevelFilter::Error,
        };
        #[cfg(feature = "tracing")]
        if self.tracer.is_some() {
            use tracing_log::AsLog;
            return mine.max(tracing_core::LevelFilter::current().as_log());
        }
        mine
    }

    /// The client this logger sends through now (for a
    /// [`global`](Self::global) logger, the global client if one is set).
    pub fn client(&self) -> Option<Client> {
        self.sink.client()
    }

    /// Installs this logger as the `log` crate's global logger and sets
    /// [`log::set_max_level`] from the client's `min_level`. Fails if a
    /// logger is already installed.
    pub fn try_init(self) -> Result<(), SetLoggerError> {
        let max = self.max_level();
        log::set_boxed_logger(Box::new(self))?;
        log::set_max_level(max);
        Ok(())
    }

    /// Like [`TimberLogger::try_init`].
    ///
    /// # Panics
    ///
    /// If a global logger is already installed (a setup mistake, found on
    /// the first run); use [`TimberLogger::try_init`] to handle it instead.
    pub fn init(self) {
        self.try_init()
            .expect("TimberLogger::init: a global logger is already installed");
    }
}

fn level_of(level: log::Level) -> Level {
    match level {
        log::Level::Error => Level::Error,
        log::Level::Warn => Level::Warn,
        log::Level::Info => Level::Info,
        log::Level::Debug | log::Level::Trace => Level::Debug,
    }
}

impl Log for TimberLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        #[cfg(feature = "tracing")]
        if let Some(tracer) = &self.tracer {
            if tracer.enabled(metadata) {
                return true;
            }
        }
        self.wants(metadata) && !Reentry::suppressed()
    }

    fn log(&self, record: &Record<'_>) {
        // Held until the record is queued, and while it is handed on to
        // `tracing`: formatting the arguments, an on_error callback that
        // logs, and this client's own tracing layer cannot loop back here.
        let inside = Reentry::enter();
        if inside.is_some() && self.wants(record.metadata()) {
            self.log_to_client(record);
        }
        #[cfg(feature = "tracing")]
        if let Some(tracer) = &self.tracer {
            tracer.log(record);
        }
        drop(inside);
    }

    /// Does nothing, so that no logging call ever waits on the network; see
    /// the type's documentation.
    fn flush(&self) {}
}

impl TimberLogger {
    fn log_to_client(&self, record: &Record<'_>) {
        self.sink.with(|client| self.log_through(client, record));
    }

    fn log_through(&self, client: &Client, record: &Record<'_>) {
        let Some(mut draft) = client.draft(level_of(record.level())) else {
            return;
        };
        let message = match record.args().as_str() {
            Some(text) => text.to_owned(),
            None => record.args().to_string(),
        };
        let mut visitor = KeyValues {
            data: client.data_writer(),
            keys: Vec::new(),
            error: None,
        };
        // A failing source only costs its remaining pairs.
        let _ = record.key_values().visit(&mut visitor);
        let has = |keys: &[String], name: &str| keys.iter().any(|k| k == name);
        if self.with_target && !has(&visitor.keys, TARGET_KEY) {
            visitor.data.str(TARGET_KEY, record.target());
        }
        if let (true, Some(module)) = (self.with_module, record.module_path()) {
            if !has(&visitor.keys, MODULE_KEY) {
                visitor.data.str(MODULE_KEY, module);
            }
        }
        draft.message(message_or(message, record.target()));
        if let Some((name, stack)) = visitor.error {
            draft.error(name, stack);
        }
        draft.with_data(visitor.data);
        draft.emit();
    }
}

/// Writes a record's key-values as data, keeping their JSON type.
struct KeyValues<'c> {
    data: DataWriter<'c>,
    /// The keys written, so that `target` and `module` do not repeat one.
    keys: Vec<String>,
    error: Option<(String, String)>,
}

impl<'kvs> VisitSource<'kvs> for KeyValues<'_> {
    fn visit_pair(&mut self, key: Key<'kvs>, value: kv::Value<'kvs>) -> Result<(), kv::Error> {
        let name = key.as_str();
        if let Some(error) = value.to_borrowed_error() {
            if self.error.is_none() {
                self.error = Some(error_fields(error));
            }
            self.data.display(name, error);
        } else if let Some(v) = value.to_bool() {
            self.data.bool(name, v);
        } else if let Some(v) = value.to_i64() {
            self.data.i64(name, v);
        } else if let Some(v) = value.to_u64() {
            self.data.u64(name, v);
        } else if let Some(v) = value.to_i128() {
            self.data.i128(name, v);
        } else if let Some(v) = value.to_f64() {
            self.data.f64(name, v);
        } else if let Some(v) = value.to_borrowed_str() {
            self.data.str(name, v);
        } else {
            self.data.display(name, &value);
        }
        if matches!(name, TARGET_KEY | MODULE_KEY) {
            self.keys.push(name.to_owned());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_map_onto_four() {
        assert_eq!(level_of(log::Level::Trace), Level::Debug);
        assert_eq!(level_of(log::Level::Debug), Level::Debug);
        assert_eq!(level_of(log::Level::Info), Level::Info);
        assert_eq!(level_of(log::Level::Warn), Level::Warn);
        assert_eq!(level_of(log::Level::Error), Level::Error);
    }
}
