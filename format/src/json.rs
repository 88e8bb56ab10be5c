//! `json`: a JSON array of records (written), or an array or `{"logs":[...]}` (read).
//!
//! ```
//! use timber_format::{json, Record};
//! use timber_core::Level;
//! let records = json::parse(r#"{"logs":[{"level":"WARNING","msg":"disk","host":"db1"}]}"#)?;
//! assert_eq!(records[0].level, Level::Warn);
//! assert_eq!(records[0].message, "disk");
//! assert_eq!(records[0].data.as_ref().unwrap()["host"], "db1");
//! # Ok::<(), timber_format::FormatError>(())
//! ```

use std::fmt;
use std::io;
use std::sync::Arc;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};
use timber_core::{Environment, Level, LogRecord};

use crate::error::FormatError;
use crate::names::{level_from_name, level_from_number};
use crate::protocol::Format;
use crate::timestamp;

/// Writes `records` as one JSON array.
pub fn write<W: io::Write>(records: &[LogRecord], writer: &mut W) -> io::Result<()> {
    serde_json::to_writer(writer, records).map_err(io::Error::from)
}

/// Reads a JSON array of records or an object `{"logs":[...]}`.
pub fn parse(input: &str) -> Result<Vec<LogRecord>, FormatError> {
    #[derive(Deserialize)]
    struct Body {
        logs: Vec<Lenient>,
    }
    let trimmed = input.trim_start();
    let result = if trimmed.starts_with('{') {
        serde_json::from_str::<Body>(input).map(|b| b.logs)
    } else {
        serde_json::from_str::<Vec<Lenient>>(input)
    };
    match result {
        Ok(records) => Ok(records.into_iter().map(|r| r.0).collect()),
        Err(e) => Err(FormatError::from_json(Format::Json, &e, 0)),
    }
}

/// One record read leniently from a JSON object: the wire names plus common
/// aliases, any-case level names, RFC 3339 timestamps, unknown keys into `data`.
/// Decoded in one pass, as fast as the derived `LogRecord` decoder.
pub(crate) struct Lenient(pub(crate) LogRecord);

enum Field {
    Level,
    Message,
    Source,
    Environment,
    Version,
    UserId,
    SessionId,
    RequestId,
    Data,
    ErrorName,
    ErrorStack,
    Tags,
    FlowId,
    StepIndex,
    Dataset,
    Timestamp,
    IpAddress,
    Country,
    Other(String),
}

impl Field {
    fn from_name(name: &str) -> Field {
        match name {
            "level" => Field::Level,
            "message" | "msg" => Field::Message,
            "source" => Field::Source,
            "environment" => Field::Environment,
            "version" => Field::Version,
            "userId" | "user_id" => Field::UserId,
            "sessionId" | "session_id" => Field::SessionId,
            "requestId" | "request_id" => Field::RequestId,
            "data" => Field::Data,
            "errorName" | "error_name" => Field::ErrorName,
            "errorStack" | "error_stack" => Field::ErrorStack,
            "tags" => Field::Tags,
            "flowId" | "flow_id" => Field::FlowId,
            "stepIndex" | "step_index" => Field::StepIndex,
            "dataset" => Field::Dataset,
            "timestamp" | "time" => Field::Timestamp,
            "ipAddress" | "ip_address" => Field::IpAddress,
            "country" => Field::Country,
            other => Field::Other(other.to_owned()),
        }
    }
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Field;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Field, E> {
                Ok(Field::from_name(v))
            }
        }
        d.deserialize_identifier(V)
    }
}

/// A level given as a name or a pino/bunyan number.
struct LenientLevel(Level);

impl<'de> Deserialize<'de> for LenientLevel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = LenientLevel;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a level name (debug, info, warn, error) or number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<LenientLevel, E> {
                level_from_name(v)
                    .map(LenientLevel)
                    .ok_or_else(|| E::custom(format_args!("unknown level {v:?}")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<LenientLevel, E> {
                Ok(LenientLevel(level_from_number(v as f64)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<LenientLevel, E> {
                Ok(LenientLevel(level_from_number(v as f64)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<LenientLevel, E> {
                Ok(LenientLevel(level_from_number(v)))
            }
        }
        d.deserialize_any(V)
    }
}

/// A timestamp given as Unix milliseconds or an RFC 3339 string.
pub(crate) struct LenientTimestamp(pub(crate) Option<i64>);

impl<'de> Deserialize<'de> for LenientTimestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = LenientTimestamp;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("Unix milliseconds or an RFC 3339 timestamp")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<LenientTimestamp, E> {
                Ok(LenientTimestamp(Some(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<LenientTimestamp, E> {
                i64::try_from(v)
                    .map(|v| LenientTimestamp(Some(v)))
                    .map_err(|_| E::custom("timestamp out of range"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<LenientTimestamp, E> {
                if v.is_finite() && v.abs() < 9.2e18 {
                    Ok(LenientTimestamp(Some(v.floor() as i64)))
                } else {
                    Err(E::custom("timestamp out of range"))
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<LenientTimestamp, E> {
                parse_timestamp_str(v)
                    .map(|ms| LenientTimestamp(Some(ms)))
                    .ok_or_else(|| E::custom(format_args!("invalid timestamp {v:?}")))
            }
            fn visit_unit<E: de::Error>(self) -> Result<LenientTimestamp, E> {
                Ok(LenientTimestamp(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// Digits as milliseconds, else an RFC 3339 date-time.
pub(crate) fn parse_timestamp_str(v: &str) -> Option<i64> {
    let v = v.trim();
    match v.parse::<i64>() {
        Ok(ms) => Some(ms),
        Err(_) => timestamp::parse_full(v),
    }
}

fn shared(s: Option<String>) -> Option<Arc<str>> {
    s.map(Arc::from)
}

impl<'de> Deserialize<'de> for Lenient {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(RecordVisitor)
    }
}

struct RecordVisitor;

impl<'de> Visitor<'de> for RecordVisitor {
    type Value = Lenient;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a log record object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Lenient, A::Error> {
        let mut r = LogRecord::default();
        let mut message = None;
        let mut extra: Option<Map<String, Value>> = None;
        while let Some(key) = map.next_key::<Field>()? {
            match key {
                Field::Level => {
                    r.level = match map.next_value::<Option<LenientLevel>>()? {
                        Some(l) => l.0,
                        None => Level::Info,
                    }
                }
                Field::Message => message = Some(map.next_value::<String>()?),
                Field::Source => r.source = shared(map.next_value()?),
                Field::Environment => {
                    r.environment = match map.next_value::<Option<String>>()? {
                        Some(e) => Some(e.parse::<Environment>().map_err(de::Error::custom)?),
                        None => None,
                    }
                }
                Field::Version => r.version = shared(map.next_value()?),
                Field::UserId => r.user_id = shared(map.next_value()?),
                Field::SessionId => r.session_id = shared(map.next_value()?),
                Field::RequestId => r.request_id = map.next_value()?,
                Field::Data => {
                    if let Some(data) = map.next_value::<Option<Map<String, Value>>>()? {
                        match &mut r.data {
                            Some(existing) => existing.extend(data),
                            None => r.data = Some(data),
                        }
                    }
                }
                Field::ErrorName => r.error_name = map.next_value()?,
                Field::ErrorStack => r.error_stack = map.next_value()?,
                Field::Tags => {
                    r.tags = map.next_value::<Option<Vec<String>>>()?.unwrap_or_default()
                }
                Field::FlowId => r.flow_id = shared(map.next_value()?),
                Field::StepIndex => r.step_index = map.next_value()?,
                Field::Dataset => r.dataset = shared(map.next_value()?),
                Field::Timestamp => r.timestamp = map.next_value::<LenientTimestamp>()?.0,
                Field::IpAddress => r.ip_address = map.next_value()?,
                Field::Country => r.country = map.next_value()?,
                Field::Other(name) => {
                    let value = map.next_value::<Value>()?;
                    extra.get_or_insert_with(Map::new).insert(name, value);
                }
            }
        }
        r.message = message.ok_or_else(|| de::Error::missing_field("message"))?;
        if let Some(extra) = extra {
            // Unknown keys are data; an explicit `data` entry wins on a clash.
            let data = r.data.get_or_insert_with(Map::new);
            for (k, v) in extra {
                data.entry(k).or_insert(v);
            }
        }
        Ok(Lenient(r))
    }
}

/// Decodes one lenient record from a deserializer (used by `jsonl`).
pub(crate) fn record<'de, D: Deserializer<'de>>(d: D) -> Result<LogRecord, D::Error> {
    Lenient::deserialize(d).map(|l| l.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_shapes_and_positions_errors() {
        let a = parse(r#"[{"level":"info","message":"a"}]"#).unwrap();
        let b = parse(r#" {"logs":[{"level":"info","message":"a"}]}"#).unwrap();
        assert_eq!(a, b);
        let err = parse("[\n{\"level\":\"info\"}\n]").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("missing field `message`"), "{err}");
        let err = parse("[{\"level\":\"loud\",\"message\":\"x\"}]").unwrap_err();
        assert!(err.message.contains("unknown level"), "{err}");
    }

    #[test]
    fn lenient_fields() {
        let r = parse(r#"[{"level":30,"msg":"m","time":"2024-01-15T10:30:00Z","user_id":"u","x":1,"data":{"x":2}}]"#)
            .unwrap();
        assert_eq!(r[0].level, Level::Info);
        assert_eq!(r[0].timestamp, Some(1_705_314_600_000));
        assert_eq!(r[0].user_id.as_deref(), Some("u"));
        assert_eq!(r[0].data.as_ref().unwrap()["x"], 2);
    }
}
