//! What happens to a record between the logging call and the queue:
//! per-level sampling, the `before_send` hook, and redaction of data keys
//! (one mechanism: a serializer that redacts as the data is rendered).

pub(crate) mod key_check;
pub(crate) mod redacting;
pub(crate) mod redactor;

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use crate::error::ConfigError;
use crate::record::level::Level;
use crate::record::record::Record;
use redactor::Redactor;

pub use redactor::{DEFAULT_REDACTED_KEYS, REDACTED};

/// Sees each record before it is queued and returns it, changed or not, or
/// `None` to drop it. Runs on the logging thread: keep it short.
pub type BeforeSend = Arc<dyn Fn(Record) -> Option<Record> + Send + Sync>;

/// The record hooks of a client, as configured on its builder (see
/// [`ClientBuilder::before_send`](crate::ClientBuilder::before_send), [`ClientBuilder::sample_rate`](crate::ClientBuilder::sample_rate) and
/// [`ClientBuilder::redact_keys`](crate::ClientBuilder::redact_keys)).
///
/// In order, for each record that passes `min_level`:
///
/// 1. **sampling**: a record of a level with a rate below 1 is kept with
///    that probability (decided before any other work, so a dropped record
///    costs almost nothing and consumes no flow step);
/// 2. **redaction**: the values of data keys that match the configured
///    list (at any depth; [`DEFAULT_REDACTED_KEYS`] unless changed) become
///    `"[REDACTED]"` as the data is rendered;
/// 3. **`before_send`**, when set, gets the record (its data already
///    redacted) and returns it, changed or not, or `None` to drop it; data
///    it replaces is redacted too; a hook that panics drops the record
///    (reported to `on_error`);
/// 4. validation of every limit, then the queue.
///
/// The record `before_send` gets carries what the caller gave (level,
/// message, timestamp, user and session ids, request id, data, tags, error
/// name and stack, flow id); the batch adds the resource (source,
/// environment, version), the worker the dataset and the backtrace, the
/// queue the step index. Records refused by sampling or `before_send` are
/// not errors and are not counted.
///
/// With none of the three configured (`redact_keys` empty), a record costs
/// what it did without hooks; redaction alone adds a key check per data key
/// (see BENCHMARKS.md); `before_send` is handed the record as it is
/// (its data stays rendered text unless the hook reads it).
#[derive(Clone, Default)]
pub struct Hooks {
    /// Per level (`Level as usize`); `None` when every level keeps all.
    sample_rates: Option<[f64; 4]>,
    before_send: Option<BeforeSend>,
    redactor: Option<Arc<Redactor>>,
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

    /// Runs `before_send`, if set: `Ok(None)` when the hook dropped the
    /// record, `Err` when it panicked. Data the hook replaced is redacted.
    pub(crate) fn before_send(&self, record: Record) -> Result<Option<Record>, &'static str> {
        let Some(hook) = &self.before_send else {
            return Ok(Some(record));
        };
        let mut record = match panic::catch_unwind(AssertUnwindSafe(|| hook(record))) {
            Ok(Some(record)) => record,
            Ok(None) => return Ok(None),
            Err(_) => return Err("the before_send hook panicked; the record was dropped"),
        };
        if let Some(redactor) = &self.redactor {
            if let Some(data) = record.data().filter(|d| !d.is_redacted()) {
                let data = redacting::redact_data(data, redactor);
                record.set_data(Some(data));
            }
        }
        Ok(Some(record))
    }

    /// The redactor of data keys, if any key is redacted.
    pub(crate) fn redactor(&self) -> Option<&Redactor> {
        self.redactor.as_deref()
    }
}

/// The builder's settings of the hooks.
pub(crate) struct HookSettings {
    pub(crate) sample_rates: [f64; 4],
    pub(crate) before_send: Option<BeforeSend>,
    pub(crate) redact_keys: Vec<String>,
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
