//! `obl`: Open Board Logging (`open-board-log-0.1`), the JSON log documents of
//! AAC (augmentative and alternative communication) apps.
//!
//! **Writing.** Records are grouped into sessions by `sessionId` (in the
//! order each first appears; a session without id has no `id`), each with
//! `type: "log"` and `started`/`ended` from its events' timestamps. Each
//! record is an event: `type` is `data.type` (default `note`); the message is
//! `label` for `button`, `action` for `action`, `text` otherwise; `id` is the
//! `requestId`; `timestamp` is ISO 8601. `userId` and `source` go to the
//! document's `user_id` and `source` when every record shares them, else to
//! each event. The other fields are snake_case event keys (`level` when not
//! `info`, `environment`, `version`, `error_name`, `error_stack`, `tags`,
//! `flow_id`, `step_index`, `dataset`, `ip_address`, `country`); `data` keys
//! become event keys, except those clashing with the keys above, which stay
//! under an event `data` object.
//!
//! **Reading** is the reverse, for any event type: a button's message is its
//! `label` (else `vocalization`, `text`), an action's its `action`, others
//! their `text` (else `label`, else the type name). Every event key it does
//! not map (`button_id`, `board_id`, `spoken`, `buttons`, ...) goes into `data`,
//! and so does `type` unless it is `note`. A number `id` becomes a string.
//!
//! ```
//! use timber_format::obl;
//! let doc = r#"{"format":"open-board-log-0.1","user_id":"u1","source":"CoughDrop","sessions":[
//!   {"id":"s1","type":"log","started":"2024-01-15T10:30:00Z","ended":"2024-01-15T10:31:00Z","events":[
//!     {"id":1,"timestamp":"2024-01-15T10:30:00Z","type":"button","label":"want","button_id":"b7","spoken":true},
//!     {"id":2,"timestamp":"2024-01-15T10:30:05Z","type":"utterance","text":"I want juice"}]}]}"#;
//! let records = obl::parse(doc)?;
//! assert_eq!(records[0].message, "want");
//! assert_eq!(records[0].session_id.as_deref(), Some("s1"));
//! assert_eq!(records[0].user_id.as_deref(), Some("u1"));
//! assert_eq!(records[0].data.as_ref().unwrap()["button_id"], "b7");
//! assert_eq!(records[1].data.as_ref().unwrap()["type"], "utterance");
//! # Ok::<(), timber_format::FormatError>(())
//! ```

use std::io;
use std::sync::Arc;

use serde::de::{self, Deserializer};
use serde::Deserialize;
use serde_json::{Map, Value};
use timber_core::{Environment, Level, LogRecord};

use crate::error::FormatError;
use crate::json::parse_timestamp_str;
use crate::names::level_from_name;
use crate::protocol::Format;
use crate::timestamp;

/// The `format` value written.
pub const FORMAT: &str = "open-board-log-0.1";

/// Event keys the reader interprets: `data` keys with these names are nested
/// under the event's `data` object so they cannot be mistaken for them.
const RESERVED: [&str; 20] = [
    "id",
    "timestamp",
    "type",
    "text",
    "label",
    "action",
    "level",
    "source",
    "user_id",
    "environment",
    "version",
    "error_name",
    "error_stack",
    "tags",
    "flow_id",
    "step_index",
    "dataset",
    "ip_address",
    "country",
    "data",
];

fn message_key(kind: &str) -> &'static str {
    match kind {
        "button" => "label",
        "action" => "action",
        _ => "text",
    }
}

fn time_value(ms: i64) -> Value {
    // Instants ISO 8601 cannot express are written as Unix milliseconds.
    timestamp::format_millis(ms).map_or_else(|| ms.into(), Value::String)
}

/// The value every record shares, if they all have the same one.
fn common(records: &[LogRecord], field: fn(&LogRecord) -> Option<&str>) -> Option<&str> {
    let first = field(records.first()?)?;
    records
        .iter()
        .all(|r| field(r) == Some(first))
        .then_some(first)
}

/// Writes one `open-board-log-0.1` document.
pub fn write<W: io::Write>(records: &[LogRecord], writer: &mut W) -> io::Result<()> {
    let user = common(records, |r| r.user_id.as_deref());
    let source = common(records, |r| r.source.as_deref());

    // Sessions in order of first appearance.
    let mut sessions: Vec<(Option<&str>, Vec<&LogRecord>)> = Vec::new();
    for r in records {
        let id = r.session_id.as_deref();
        match sessions.iter_mut().find(|(s, _)| *s == id) {
            Some((_, events)) => events.push(r),
            None => sessions.push((id, vec![r])),
        }
    }

    let mut doc = Map::new();
    doc.insert("format".into(), FORMAT.into());
    if let Some(u) = user {
        doc.insert("user_id".into(), u.into());
    }
    if let Some(s) = source {
        doc.insert("source".into(), s.into());
    }
    let sessions: Vec<Value> = sessions
        .into_iter()
        .map(|(id, events)| {
            let mut session = Map::new();
            if let Some(id) = id {
                session.insert("id".into(), id.into());
            }
            session.insert("type".into(), "log".into());
            let times = events.iter().filter_map(|r| r.timestamp);
            if let (Some(start), Some(end)) = (times.clone().min(), times.max()) {
                session.insert("started".into(), time_value(start));
                session.insert("ended".into(), time_value(end));
            }
            let events = events
                .into_iter()
                .map(|r| Value::Object(event(r, user.is_none(), source.is_none())))
                .collect();
            session.insert("events".into(), Value::Array(events));
            Value::Object(session)
        })
        .collect();
    doc.insert("sessions".into(), Value::Array(sessions));
    serde_json::to_writer(writer, &Value::Object(doc)).map_err(io::Error::from)
}

fn event(r: &LogRecord, own_user: bool, own_source: bool) -> Map<String, Value> {
    let mut e = Map::new();
    let data = r.data.as_ref();
    let kind = data
        .and_then(|d| d.get("type"))
        .and_then(Value::as_str)
        .filter(|t| *t != "note");
    if let Some(id) = &r.request_id {
        e.insert("id".into(), id.as_str().into());
    }
    if let Some(ms) = r.timestamp {
        e.insert("timestamp".into(), time_value(ms));
    }
    e.insert("type".into(), kind.unwrap_or("note").into());
    e.insert(
        message_key(kind.unwrap_or("note")).into(),
        r.message.as_str().into(),
    );
    if r.level != Level::Info {
        e.insert("level".into(), r.level.as_str().into());
    }
    let mut put = |key: &str, value: Option<&str>| {
        if let Some(v) = value {
            e.insert(key.into(), v.into());
        }
    };
    if own_source {
        put("source", r.source.as_deref());
    }
    if own_user {
        put("user_id", r.user_id.as_deref());
    }
    put("environment", r.environment.map(Environment::as_str));
    put("version", r.version.as_deref());
    put("error_name", r.error_name.as_deref());
    put("error_stack", r.error_stack.as_deref());
    put("flow_id", r.flow_id.as_deref());
    put("dataset", r.dataset.as_deref());
    put("ip_address", r.ip_address.as_deref());
    put("country", r.country.as_deref());
    if !r.tags.is_empty() {
        e.insert("tags".into(), r.tags.clone().into());
    }
    if let Some(i) = r.step_index {
        e.insert("step_index".into(), i.into());
    }
    if let Some(data) = data {
        let mut nested = Map::new();
        for (k, v) in data {
            if k == "type" && kind.is_some() {
                continue; // became the event type
            }
            if RESERVED.contains(&k.as_str()) {
                nested.insert(k.clone(), v.clone());
            } else {
                e.insert(k.clone(), v.clone());
            }
        }
        let flat = data.len() - nested.len() - usize::from(kind.is_some());
        // Some({}) must read back as Some({}): say so with an empty `data`.
        if !nested.is_empty() || (flat == 0 && kind.is_none()) {
            e.insert("data".into(), Value::Object(nested));
        }
    }
    e
}

/// Reads an Open Board Logging document: one record per event.
pub fn parse(input: &str) -> Result<Vec<LogRecord>, FormatError> {
    let doc: Document =
        serde_json::from_str(input).map_err(|e| FormatError::from_json(Format::Obl, &e, 0))?;
    match doc.format.as_deref() {
        Some(f) if f.starts_with("open-board-log") => {}
        Some(f) => {
            return Err(FormatError::new(
                Format::Obl,
                1,
                1,
                format!("unsupported format {f:?} (expected {FORMAT:?})"),
            ))
        }
        None => {
            return Err(FormatError::new(
                Format::Obl,
                1,
                1,
                "missing `format` (expected \"open-board-log-0.1\")",
            ))
        }
    }
    let user: Option<Arc<str>> = doc.user_id.map(|v| Arc::from(v.0));
    let source: Option<Arc<str>> = doc.source.map(Arc::from);
    let mut records = Vec::new();
    for session in doc.sessions {
        let session_id: Option<Arc<str>> = session.id.map(|v| Arc::from(v.0));
        for Event(mut r) in session.events {
            r.session_id = session_id.clone();
            if r.user_id.is_none() {
                r.user_id = user.clone();
            }
            if r.source.is_none() {
                r.source = source.clone();
            }
            records.push(r);
        }
    }
    Ok(records)
}

#[derive(Deserialize)]
struct Document {
    format: Option<String>,
    #[serde(default)]
    user_id: Option<Id>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    sessions: Vec<Session>,
}

#[derive(Deserialize)]
struct Session {
    #[serde(default)]
    id: Option<Id>,
    #[serde(default)]
    events: Vec<Event>,
}

/// An id given as a string or a number.
struct Id(String);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => Ok(Id(s)),
            Value::Number(n) => Ok(Id(n.to_string())),
            other => Err(de::Error::custom(format_args!(
                "an id must be a string or a number, not {other}"
            ))),
        }
    }
}

/// One event, converted while deserializing so errors carry its position.
struct Event(LogRecord);

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = Map::<String, Value>::deserialize(d)?;
        event_record(map).map(Event).map_err(de::Error::custom)
    }
}

fn event_record(mut e: Map<String, Value>) -> Result<LogRecord, String> {
    fn string(e: &mut Map<String, Value>, key: &str) -> Result<Option<String>, String> {
        match e.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(format!("event `{key}` must be a string, not {other}")),
        }
    }
    let mut r = LogRecord::default();
    let kind = match e.remove("type") {
        None | Some(Value::Null) => "note".to_owned(),
        Some(Value::String(s)) => s,
        Some(other) => return Err(format!("event `type` must be a string, not {other}")),
    };
    let keys: &[&str] = match kind.as_str() {
        "button" => &["label", "vocalization", "text"],
        "action" => &["action", "text"],
        _ => &["text", "label"],
    };
    let mut message = None;
    for key in keys {
        if matches!(e.get(*key), Some(Value::String(_))) {
            message = string(&mut e, key)?;
            break;
        }
    }
    r.message = message.unwrap_or_else(|| kind.clone());
    r.request_id = match e.remove("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(other) => {
            return Err(format!(
                "event `id` must be a string or number, not {other}"
            ))
        }
    };
    r.timestamp = match e.remove("timestamp") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => {
            Some(parse_timestamp_str(&s).ok_or_else(|| format!("invalid event timestamp {s:?}"))?)
        }
        Some(Value::Number(n)) => Some(
            n.as_i64()
                .ok_or_else(|| format!("invalid event timestamp {n}"))?,
        ),
        Some(other) => return Err(format!("invalid event timestamp {other}")),
    };
    if let Some(level) = string(&mut e, "level")? {
        r.level = level_from_name(&level).ok_or_else(|| format!("unknown level {level:?}"))?;
    }
    if let Some(env) = string(&mut e, "environment")? {
        r.environment = Some(
            env.parse()
                .map_err(|err: timber_core::record::UnknownName| err.to_string())?,
        );
    }
    r.source = string(&mut e, "source")?.map(Arc::from);
    r.user_id = string(&mut e, "user_id")?.map(Arc::from);
    r.version = string(&mut e, "version")?.map(Arc::from);
    r.error_name = string(&mut e, "error_name")?;
    r.error_stack = string(&mut e, "error_stack")?;
    r.flow_id = string(&mut e, "flow_id")?.map(Arc::from);
    r.dataset = string(&mut e, "dataset")?.map(Arc::from);
    r.ip_address = string(&mut e, "ip_address")?;
    r.country = string(&mut e, "country")?;
    r.tags = match e.remove("tags") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => {
            serde_json::from_value(v).map_err(|_| "event `tags` must be strings".to_owned())?
        }
    };
    r.step_index = match e.remove("step_index") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            serde_json::from_value(v)
                .map_err(|_| "event `step_index` must be a number from 0".to_owned())?,
        ),
    };
    let nested = match e.remove("data") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m),
        Some(other) => return Err(format!("event `data` must be an object, not {other}")),
    };
    if kind != "note" {
        e.insert("type".into(), kind.into());
    }
    if !e.is_empty() || nested.is_some() {
        e.extend(nested.unwrap_or_default());
        r.data = Some(e);
    }
    Ok(r)
}
