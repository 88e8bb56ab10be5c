//! [`LogRecord`]: the wire form of one log record, as the protocol's JSON
//! writes it (what the ingest server stores and the mock answers queries with).

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::record::environment::Environment;
use crate::record::level::Level;

/// One log record exactly as the protocol's `LogRecord`: camelCase field names,
/// absent fields omitted.
///
/// Fields that repeat on every record of a client (source, version, user and
/// session ids, flow id, dataset) are shared `Arc<str>`, so stamping them on a
/// record costs a reference count, not an allocation.
///
/// ```
/// use timber_core::{Level, LogRecord};
/// let record = LogRecord {
///     source: Some("api".into()),
///     timestamp: Some(1_700_000_000_000),
///     ..LogRecord::new(Level::Info, "hello")
/// };
/// assert_eq!(
///     serde_json::to_string(&record).unwrap(),
///     r#"{"level":"info","message":"hello","source":"api","timestamp":1700000000000}"#
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogRecord {
    /// Severity.
    pub level: Level,
    /// The message, 1 to 10,000 characters.
    pub message: String,
    /// The emitting application, 1 to 100 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Arc<str>>,
    /// Deployment environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
    /// Application version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Arc<str>>,
    /// User id, at most 100 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Arc<str>>,
    /// Session id, at most 100 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<Arc<str>>,
    /// Request id, at most 100 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Structured data: a JSON object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Map<String, Value>>,
    /// The error's type name, at most 200 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_name: Option<String>,
    /// The error, its cause chain and backtrace, at most 10,000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_stack: Option<String>,
    /// At most 20 tags of at most 50 characters each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The flow this record belongs to, at most 50 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow_id: Option<Arc<str>>,
    /// The record's step within its flow, 0 to 1,000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_index: Option<u32>,
    /// Dataset, at most 50 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<Arc<str>>,
    /// Unix time in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
    /// Client IP address, at most 100 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// Country code, at most 10 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

impl LogRecord {
    /// A record with only a level and a message.
    pub fn new(level: Level, message: impl Into<String>) -> Self {
        LogRecord {
            level,
            message: message.into(),
            ..LogRecord::default()
        }
    }
}
