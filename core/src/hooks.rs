//! What happens to a record between the logging call and the queue:
//! per-level sampling, the `before_send` hook, and redaction of data keys.

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use crate::redact::Redactor;
use crate::{ClientBuilder, ConfigError, Level, LogRecord, DEFAULT_REDACTED_KEYS};

/// Sees each record before it is queued and returns it, changed or not, or
/// `None` to drop it. Runs on the logging thread: keep it short.
pub type BeforeSend = Arc<dyn Fn(LogRecord) -> Option<LogRecord> + Send + Sync>;

/// The record hooks of a client, as configured on its builder (see
/// [`ClientBuilder::before_send`], [`ClientBuilder::sample_rate`] and
/// [`ClientBuilder::redact_keys`]).
///
/// In order, for each record that passes `min_level`:
///
/// 1. **sampling**: a record of a level with a rate below 1 is kept with
///    that probability (decided before any other work, so a dropped record
///    costs almost nothing and consumes no flow step);
/// 2. **`before_send`**, when set, gets the record and returns it, changed
///    or not, or `None` to drop it; a hook that panics drops the record
///    (reported to `on_error`);
/// 3. **redaction**: the values of data keys that match the configured
///    list (at any depth; [`DEFAULT_REDACTED_KEYS`] unless changed) become
///    `"[REDACTED]"`, also in what `before_send` returned;
/// 4. validation, then the queue.
///
/// The record `before_send` gets carries what the caller gave (level,
/// message, timestamp, user and session ids, request id, data, tags, error
/// name and stack, flow id); the worker adds source, environment, version
/// and dataset, the queue the step index, and the worker the backtrace.
/// Records refused by sampling or `before_send` are not errors and are not
/// counted.
///
/// With none of the three configured (`redact_keys` empty), a record costs
/// what it did without hooks; redaction alone adds a key check per data key
/// (see BENCHMARKS.md); `before_send` turns each record into a
/// [`LogRecord`] first.
#[derive(Clone, Default)]
pub struct Hooks {
    /// Per level (`Level as usize`); `None` when every level keeps all.
    sample_rates: Option<[f64; 4]>,
    pub(crate) before_send: Option<BeforeSend>,
    pub(crate) redactor: Option<Arc<Redactor>>,
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks")
            .field("sample_rates", &self.sample_rates)
            .field("before_send", &self.before_send.as_ref().map(|_| "Fn"))
            .field("redacted_keys", &self.redacted_keys())
            .finish()
    }
}

impl Hooks {
    /// The share of records of `level` kept (1 unless configured).
    pub fn sample_rate(&self, level: Level) -> f64 {
        self.sample_rates.map_or(1.0, |rates| rates[level as usize])
    }

    /// The data keys whose values are redacted (empty: none).
    pub fn redacted_keys(&self) -> &[String] {
        self.redactor.as_deref().map_or(&[], Redactor::keys)
    }

    /// Whether a `before_send` hook is set.
    pub fn has_before_send(&self) -> bool {
        self.before_send.is_some()
    }

    /// Whether sampling keeps a record of this level (a random draw).
    #[inline]
    pub(crate) fn sampled_in(&self, level: Level) -> bool {
        match &self.sample_rates {
            None => true,
            Some(rates) => {
                let rate = rates[level as usize];
                rate >= 1.0 || fastrand::f64() < rate
            }
        }
    }

    /// Runs `before_send` (if set) then redaction on a whole record;
    /// `Ok(None)` when the hook dropped it, `Err` when the hook panicked.
    pub(crate) fn apply(&self, record: LogRecord) -> Result<Option<LogRecord>, &'static str> {
        let mut record = match &self.before_send {
            None => record,
            Some(hook) => match panic::catch_unwind(AssertUnwindSafe(|| hook(record))) {
                Ok(Some(record)) => record,
                Ok(None) => return Ok(None),
                Err(_) => return Err("the before_send hook panicked; the record was dropped"),
            },
        };
        if let (Some(redactor), Some(data)) = (&self.redactor, &mut record.data) {
            redactor.redact_map(data);
        }
        Ok(Some(record))
    }
}

/// The builder's settings of the hooks.
pub(crate) struct HookSettings {
    sample_rates: [f64; 4],
    before_send: Option<BeforeSend>,
    redact_keys: Vec<String>,
}

impl Default for HookSettings {
    fn default() -> Self {
        HookSettings {
            sample_rates: [1.0; 4],
            before_send: None,
            redact_keys: DEFAULT_REDACTED_KEYS
                .iter()
                .map(|k| (*k).to_owned())
                .collect(),
        }
    }
}

impl HookSettings {
    pub(crate) fn build(self) -> Result<Hooks, ConfigError> {
        if let Some(bad) = self
            .sample_rates
            .iter()
            .find(|r| !(r.is_finite() && (0.0..=1.0).contains(*r)))
        {
            return Err(ConfigError {
                field: "sample_rate",
                reason: format!("must be between 0 and 1, got {bad}"),
            });
        }
        Ok(Hooks {
            sample_rates: self
                .sample_rates
                .iter()
                .any(|r| *r < 1.0)
                .then_some(self.sample_rates),
            before_send: self.before_send,
            redactor: Redactor::new(self.redact_keys).map(Arc::new),
        })
    }
}

/// The hooks' settings (see [`Hooks`] for the order they run in).
impl ClientBuilder {
    /// Sets a hook that sees each record before it is queued and returns it,
    /// changed or not, or `None` to drop it (default: none). See [`Hooks`].
    ///
    /// ```
    /// use timber_core::{Client, Level};
    /// use timber_core::mock::MockTransport;
    ///
    /// let mock = MockTransport::new();
    /// let client = Client::builder()
    ///     .source("s")
    ///     .api_key("k")
    ///     .before_send(|mut record| {
    ///         if record.message.starts_with("health check") {
    ///             return None; // dropped
    ///         }
    ///         record.message = record.message.replace("ada@example.com", "<email>");
    ///         Some(record)
    ///     })
    ///     .transport(mock.clone())
    ///     .build()?;
    /// client
    ///     .info("health check ok", (), None)
    ///     .info("mail sent to ada@example.com", (), None)
    ///     .flush()?;
    /// assert_eq!(mock.count(), 1);
    /// assert_eq!(mock.last().unwrap().message, "mail sent to <email>");
    /// # Ok::<(), timber_core::Error>(())
    /// ```
    pub fn before_send(
        mut self,
        hook: impl Fn(LogRecord) -> Option<LogRecord> + Send + Sync + 'static,
    ) -> Self {
        self.hooks.before_send = Some(Arc::new(hook));
        self
    }

    /// Keeps each record of `level` with probability `rate` (0 to 1;
    /// default 1: keep all). Decided before any other work.
    ///
    /// ```
    /// use timber_core::{Client, Level};
    /// use timber_core::mock::MockTransport;
    ///
    /// let mock = MockTransport::new();
    /// let client = Client::builder()
    ///     .source("s")
    ///     .api_key("k")
    ///     .sample_rate(Level::Debug, 0.0)
    ///     .sample_rate(Level::Info, 0.5)
    ///     .transport(mock.clone())
    ///     .build()?;
    /// for i in 0..1000 {
    ///     client.debug("never", (), None).info("about half", (), None);
    /// }
    /// client.warn("always", (), None).flush()?;
    /// assert!(mock.by_level(Level::Debug).is_empty());
    /// assert!((300..700).contains(&mock.by_level(Level::Info).len()));
    /// assert_eq!(mock.by_level(Level::Warn).len(), 1);
    ///
    /// let err = Client::builder().source("s").api_key("k").sample_rate(Level::Info, 1.5)
    ///     .transport(MockTransport::new()).build().unwrap_err();
    /// assert_eq!(err.to_string(), "invalid configuration: sample_rate: must be between 0 and 1, got 1.5");
    /// # Ok::<(), timber_core::Error>(())
    /// ```
    pub fn sample_rate(mut self, level: Level, rate: f64) -> Self {
        self.hooks.sample_rates[level as usize] = rate;
        self
    }

    /// Replaces the list of data keys whose values are redacted (default
    /// [`DEFAULT_REDACTED_KEYS`]; an empty list turns redaction off). A key
    /// matches an entry when the key, lowercased and without `_`, `-`, `.`
    /// and spaces, contains the entry written the same way; values are
    /// replaced by `"[REDACTED]"` at any depth of the data.
    ///
    /// ```
    /// use serde_json::json;
    /// use timber_core::{Client, DEFAULT_REDACTED_KEYS};
    /// use timber_core::mock::MockTransport;
    ///
    /// let mock = MockTransport::new();
    /// let client = Client::builder()
    ///     .source("s")
    ///     .api_key("k")
    ///     .redact_keys(DEFAULT_REDACTED_KEYS.iter().copied().chain(["email"]))
    ///     .transport(mock.clone())
    ///     .build()?;
    /// client
    ///     .info("signed up", json!({"user": {"email": "ada@example.com", "password": "x"}, "plan": "pro"}), None)
    ///     .flush()?;
    /// assert_eq!(
    ///     mock.last().unwrap().data.unwrap()["user"],
    ///     json!({"email": "[REDACTED]", "password": "[REDACTED]"})
    /// );
    /// # Ok::<(), timber_core::Error>(())
    /// ```
    pub fn redact_keys<I, S>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.hooks.redact_keys = keys.into_iter().map(Into::into).collect();
        self
    }

    /// Adds one data key to the list of redacted keys.
    pub fn redact_key(mut self, key: impl Into<String>) -> Self {
        self.hooks.redact_keys.push(key.into());
        self
    }
}
