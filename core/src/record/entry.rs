//! What a caller hands to the client: a log entry and its options.

use serde_json::{Map, Value};

use crate::record::level::Level;

/// Per-call options of the logging methods.
///
/// ```
/// use timber_core::LogOptions;
/// let options = LogOptions::new().tag("payments").tag("retry");
/// assert_eq!(options.tags, ["payments", "retry"]);
/// let same = LogOptions::tags(["payments", "retry"]);
/// assert_eq!(options, same);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogOptions {
    /// Tags to categorize and filter the record.
    pub tags: Vec<String>,
    /// A request id to correlate the record with.
    pub request_id: Option<String>,
}

impl LogOptions {
    /// Empty options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Options carrying these tags.
    pub fn tags<I, S>(tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        LogOptions {
            tags: tags.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }

    /// Adds one tag.
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// Sets the request id.
    pub fn request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into());
        self
    }
}

/// A log entry with full control over every field, for [`Client::log`](crate::Client::log).
///
/// Fields left `None` are filled by the client: `timestamp` with the time of
/// the call, `user_id`/`session_id` with the client's current values,
/// `dataset` with the configured one.
///
/// ```
/// use timber_core::{Level, LogEntry};
/// use serde_json::json;
/// let entry = LogEntry::new(Level::Warn, "slow query")
///     .data(json!({"ms": 950}))
///     .tags(["db"])
///     .user_id("user-1");
/// assert_eq!(entry.data.unwrap()["ms"], 950);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogEntry {
    /// Severity.
    pub level: Level,
    /// The message.
    pub message: String,
    /// Structured data (a JSON object).
    pub data: Option<Map<String, Value>>,
    /// Error type name.
    pub error_name: Option<String>,
    /// Error trace.
    pub error_stack: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// User id; defaults to the client's.
    pub user_id: Option<String>,
    /// Session id; defaults to the client's.
    pub session_id: Option<String>,
    /// Request id.
    pub request_id: Option<String>,
    /// Flow id (set by [`Flow`](crate::Flow) for you).
    pub flow_id: Option<String>,
    /// Step index within the flow.
    pub step_index: Option<u32>,
    /// Dataset; defaults to the configured one.
    pub dataset: Option<String>,
    /// Unix milliseconds; defaults to the time of the call.
    pub timestamp: Option<i64>,
    /// Client IP address.
    pub ip_address: Option<String>,
    /// Country code.
    pub country: Option<String>,
}

impl LogEntry {
    /// An entry with a level and a message.
    pub fn new(level: Level, message: impl Into<String>) -> Self {
        LogEntry {
            level,
            message: message.into(),
            ..Self::default()
        }
    }

    /// Sets `data`. A JSON object is kept; `null` clears; any other JSON value
    /// is stored under the key `value`, so nothing the caller passed vanishes.
    pub fn data(mut self, data: Value) -> Self {
        self.data = match data {
            Value::Null => None,
            Value::Object(map) => Some(map),
            other => Some(Map::from_iter([("value".to_owned(), other)])),
        };
        self
    }

    /// Sets the tags.
    pub fn tags<I, S>(mut self, tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tags = tags.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the user id.
    pub fn user_id(mut self, id: impl Into<String>) -> Self {
        self.user_id = Some(id.into());
        self
    }

    /// Sets the session id.
    pub fn session_id(mut self, id: impl Into<String>) -> Self {
        self.session_id = Some(id.into());
        self
    }

    /// Sets the request id.
    pub fn request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into());
        self
    }

    /// Sets the dataset.
    pub fn dataset(mut self, dataset: impl Into<String>) -> Self {
        self.dataset = Some(dataset.into());
        self
    }

    /// Sets the timestamp (Unix milliseconds).
    pub fn timestamp(mut self, millis: i64) -> Self {
        self.timestamp = Some(millis);
        self
    }

    /// Sets the error name and stack.
    pub fn error(mut self, name: impl Into<String>, stack: impl Into<String>) -> Self {
        self.error_name = Some(name.into());
        self.error_stack = Some(stack.into());
        self
    }

    /// Sets the IP address.
    pub fn ip_address(mut self, ip: impl Into<String>) -> Self {
        self.ip_address = Some(ip.into());
        self
    }

    /// Sets the country code.
    pub fn country(mut self, country: impl Into<String>) -> Self {
        self.country = Some(country.into());
        self
    }

    /// Applies per-call options.
    pub fn options(mut self, options: LogOptions) -> Self {
        self.tags.extend(options.tags);
        if options.request_id.is_some() {
            self.request_id = options.request_id;
        }
        self
    }
}
