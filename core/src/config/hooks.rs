//! The hooks' settings of [`ClientBuilder`]: sampling, `before_send` and
//! the redacted keys.

use std::sync::Arc;

use crate::config::builder::ClientBuilder;
use crate::record::level::Level;
use crate::record::record::Record;

/// The hooks' settings (see [`Hooks`](crate::hooks::Hooks) for the order they run in).
impl ClientBuilder {
    /// Sets a hook that sees each record before it is queued and returns it,
    /// changed or not, or `None` to drop it (default: none). See [`Hooks`](crate::hooks::Hooks).
    ///
    /// ```
    /// use timber_core::{Client, Level};
    /// # #[path = "../../tests/double/mod.rs"] mod double;
    /// # use double::MockTransport;
    ///
    /// let mock = MockTransport::new();
    /// let client = Client::builder()
    ///     .source("s")
    ///     .api_key("k")
    ///     .before_send(|mut record| {
    ///         if record.message().starts_with("health check") {
    ///             return None; // dropped
    ///         }
    ///         let hidden = record.message().replace("ada@example.com", "<email>");
    ///         record.set_message(hidden);
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
        hook: impl Fn(Record) -> Option<Record> + Send + Sync + 'static,
    ) -> Self {
        self.hooks.before_send = Some(Arc::new(hook));
        self
    }

    /// Keeps each record of `level` with probability `rate` (0 to 1;
    /// default 1: keep all). Decided before any other work.
    ///
    /// ```
    /// use timber_core::{Client, Level};
    /// # #[path = "../../tests/double/mod.rs"] mod double;
    /// # use double::MockTransport;
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
    /// [`DEFAULT_REDACTED_KEYS`](crate::hooks::DEFAULT_REDACTED_KEYS); an empty list turns redaction off). A key
    /// matches an entry when the key, lowercased and without `_`, `-`, `.`
    /// and spaces, contains the entry written the same way; values are
    /// replaced by `"[REDACTED]"` at any depth of the data.
    ///
    /// ```
    /// use serde_json::json;
    /// use timber_core::Client;
    /// use timber_core::hooks::DEFAULT_REDACTED_KEYS;
    /// # #[path = "../../tests/double/mod.rs"] mod double;
    /// # use double::MockTransport;
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
