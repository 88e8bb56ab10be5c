//! The protocol's validation limits, all in one place: every check a
//! record meets before it is queued (and the ingest server's checks of the
//! wire form) is here.

use std::fmt;

use serde_json::{Map, Value};

use crate::record::limits::{self, char_len};
use crate::record::log_record::LogRecord;
use crate::record::record::Record;

/// Which limit a value broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Violation {
    /// Shorter than the minimum.
    TooShort,
    /// Longer than the maximum.
    TooLong,
    /// A number above the maximum.
    TooLarge,
    /// More items than allowed.
    TooMany,
    /// Nested deeper than allowed.
    TooDeep,
}

/// A record field that breaks a protocol limit.
///
/// ```
/// use timber_core::record::{validate, Violation};
/// use timber_core::{Level, LogRecord};
/// let err = validate(&LogRecord::new(Level::Info, "")).unwrap_err();
/// assert_eq!(err.field, "message");
/// assert_eq!(err.violation, Violation::TooShort);
/// assert_eq!(err.to_string(), "message is too short: 0 characters, the minimum is 1");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationError {
    /// The wire name of the field (`message`, `tags[3]`, ...).
    pub field: String,
    /// What was wrong.
    pub violation: Violation,
    /// The limit.
    pub limit: usize,
    /// The actual size (characters, items, value or depth).
    pub actual: usize,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (what, unit, bound) = match self.violation {
            Violation::TooShort => ("too short", "characters", "minimum"),
            Violation::TooLong => ("too long", "characters", "maximum"),
            Violation::TooLarge => ("too large", "", "maximum"),
            Violation::TooMany => ("too many", "items", "maximum"),
            Violation::TooDeep => ("nested too deep", "levels", "maximum"),
        };
        let sep = if unit.is_empty() { "" } else { " " };
        write!(
            f,
            "{} is {what}: {}{sep}{unit}, the {bound} is {}",
            self.field, self.actual, self.limit
        )
    }
}

impl std::error::Error for ValidationError {}

fn too(
    field: impl Into<String>,
    violation: Violation,
    limit: usize,
    actual: usize,
) -> ValidationError {
    ValidationError {
        field: field.into(),
        violation,
        limit,
        actual,
    }
}

fn check_len(field: &str, value: Option<&str>, max: usize) -> Result<(), ValidationError> {
    match value.and_then(|v| char_len(v, max)) {
        Some(actual) => Err(too(field, Violation::TooLong, max, actual)),
        None => Ok(()),
    }
}

/// Checks every limit of the protocol on a record as the client queues it;
/// the first broken one is the error. (The fields most records lack are
/// only looked at when the record has them.)
pub fn validate_record(r: &Record) -> Result<(), ValidationError> {
    use limits::*;
    check_message(r.message())?;
    check_len("userId", r.user_id(), ID)?;
    check_len("sessionId", r.session_id(), ID)?;
    check_len("flowId", r.flow_id(), FLOW_ID)?;
    check_len("dataset", r.dataset(), DATASET)?;
    if r.has_details() {
        check_len("errorName", r.error_name(), ERROR_NAME)?;
        check_len("errorStack", r.error_stack(), ERROR_STACK)?;
        check_len("requestId", r.request_id(), ID)?;
        check_len("ipAddress", r.ip_address(), IP_ADDRESS)?;
        check_len("country", r.country(), COUNTRY)?;
    }
    if let Some(step) = r.step_index() {
        check_step(step)?;
    }
    if !r.tags().is_empty() {
        check_tags(r.tags())?;
    }
    match r.data().and_then(|d| d.excess_depth()) {
        Some(depth) => Err(too("data", Violation::TooDeep, DATA_DEPTH, depth)),
        None => Ok(()),
    }
}

/// Checks every limit of the protocol on a record in its wire form (what
/// the ingest server checks); the first broken one is the error.
pub fn validate(r: &LogRecord) -> Result<(), ValidationError> {
    use limits::*;
    check_message(&r.message)?;
    if let Some(source) = &r.source {
        check_source(source)?;
    }
    let texts = [
        ("errorName", r.error_name.as_deref(), ERROR_NAME),
        ("errorStack", r.error_stack.as_deref(), ERROR_STACK),
        ("userId", r.user_id.as_deref(), ID),
        ("sessionId", r.session_id.as_deref(), ID),
        ("requestId", r.request_id.as_deref(), ID),
        ("flowId", r.flow_id.as_deref(), FLOW_ID),
        ("dataset", r.dataset.as_deref(), DATASET),
        ("ipAddress", r.ip_address.as_deref(), IP_ADDRESS),
        ("country", r.country.as_deref(), COUNTRY),
        ("version", r.version.as_deref(), ID),
    ];
    for (field, value, max) in texts {
        check_len(field, value, max)?;
    }
    if let Some(step) = r.step_index {
        check_step(step)?;
    }
    check_tags(&r.tags)?;
    match r.data.as_ref().map(data_depth).filter(|d| *d > DATA_DEPTH) {
        Some(depth) => Err(too("data", Violation::TooDeep, DATA_DEPTH, depth)),
        None => Ok(()),
    }
}

/// The message's limits: 1 to 10,000 characters.
pub(crate) fn check_message(message: &str) -> Result<(), ValidationError> {
    if message.is_empty() {
        return Err(too("message", Violation::TooShort, 1, 0));
    }
    check_len("message", Some(message), limits::MESSAGE)
}

/// The source's limits: 1 to 100 characters.
pub(crate) fn check_source(source: &str) -> Result<(), ValidationError> {
    if source.is_empty() {
        return Err(too("source", Violation::TooShort, 1, 0));
    }
    check_len("source", Some(source), limits::SOURCE)
}

/// A default id's limit (`userId`, `sessionId`).
pub(crate) fn check_id(field: &str, id: &str) -> Result<(), ValidationError> {
    check_len(field, Some(id), limits::ID)
}

/// A step index's limit: 0 to 1,000.
pub(crate) fn check_step(step: u32) -> Result<(), ValidationError> {
    if step > limits::STEP_INDEX {
        return Err(too(
            "stepIndex",
            Violation::TooLarge,
            limits::STEP_INDEX as usize,
            step as usize,
        ));
    }
    Ok(())
}

/// A flow id's limits: 1 to 50 characters.
pub(crate) fn check_flow_id(id: &str) -> Result<(), ValidationError> {
    let n = id.chars().count();
    match n {
        0 => Err(too("flowId", Violation::TooShort, limits::FLOW_ID, 0)),
        n if n > limits::FLOW_ID => Err(too("flowId", Violation::TooLong, limits::FLOW_ID, n)),
        _ => Ok(()),
    }
}

/// A flow name's limits: the id adds 9 characters (`-` and 8 random ones)
/// and must fit in 50.
pub(crate) fn check_flow_name(name: &str) -> Result<(), ValidationError> {
    let n = name.chars().count();
    let max = limits::FLOW_ID - 9;
    match n {
        0 => Err(too("flow name", Violation::TooShort, max, 0)),
        n if n > max => Err(too("flow name", Violation::TooLong, max, n)),
        _ => Ok(()),
    }
}

/// A record larger than a request may be.
pub(crate) fn check_size(size: usize, max: usize) -> Result<(), ValidationError> {
    if size > max {
        return Err(too("record", Violation::TooLarge, max, size));
    }
    Ok(())
}

/// At most 20 tags of at most 50 characters.
pub(crate) fn check_tags(tags: &[String]) -> Result<(), ValidationError> {
    if tags.len() > limits::TAGS {
        return Err(too("tags", Violation::TooMany, limits::TAGS, tags.len()));
    }
    // The field's name is written only for a tag that breaks the limit.
    match tags
        .iter()
        .position(|tag| char_len(tag, limits::TAG).is_some())
    {
        Some(i) => check_len(&format!("tags[{i}]"), Some(&tags[i]), limits::TAG),
        None => Ok(()),
    }
}

/// The nesting depth of an object's members and the object itself.
fn data_depth(data: &Map<String, Value>) -> usize {
    data.values().map(depth_of).max().unwrap_or(0) + 1
}

/// Nesting depth of a JSON value, without recursion (deep input must not
/// overflow the stack of the thread that checks it).
fn depth_of(value: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 1usize)];
    while let Some((v, d)) = stack.pop() {
        match v {
            Value::Array(items) => {
                deepest = deepest.max(d);
                stack.extend(items.iter().map(|i| (i, d + 1)));
            }
            Value::Object(map) => {
                deepest = deepest.max(d);
                stack.extend(map.values().map(|i| (i, d + 1)));
            }
            _ => deepest = deepest.max(d.saturating_sub(1)),
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::level::Level;
    use crate::record::limits::truncate_chars;
    use serde_json::json;

    fn rec() -> LogRecord {
        LogRecord::new(Level::Info, "ok")
    }

    #[test]
    fn every_limit_names_field_limit_and_size() {
        type Edit = fn(&mut LogRecord);
        let cases: [(Edit, &str, usize, usize); 14] = [
            (
                |r| r.message = "x".repeat(10_001),
                "message",
                10_000,
                10_001,
            ),
            (
                |r| r.source = Some("s".repeat(101).into()),
                "source",
                100,
                101,
            ),
            (
                |r| r.error_name = Some("e".repeat(201)),
                "errorName",
                200,
                201,
            ),
            (
                |r| r.error_stack = Some("e".repeat(10_001)),
                "errorStack",
                10_000,
                10_001,
            ),
            (
                |r| r.user_id = Some("u".repeat(101).into()),
                "userId",
                100,
                101,
            ),
            (
                |r| r.session_id = Some("u".repeat(101).into()),
                "sessionId",
                100,
                101,
            ),
            (
                |r| r.request_id = Some("u".repeat(101)),
                "requestId",
                100,
                101,
            ),
            (
                |r| r.flow_id = Some("f".repeat(51).into()),
                "flowId",
                50,
                51,
            ),
            (
                |r| r.dataset = Some("d".repeat(51).into()),
                "dataset",
                50,
                51,
            ),
            (
                |r| r.ip_address = Some("1".repeat(101)),
                "ipAddress",
                100,
                101,
            ),
            (|r| r.country = Some("c".repeat(11)), "country", 10, 11),
            (|r| r.step_index = Some(1001), "stepIndex", 1000, 1001),
            (|r| r.tags = vec!["t".into(); 21], "tags", 20, 21),
            (
                |r| r.tags = vec!["t".into(), "x".repeat(51)],
                "tags[1]",
                50,
                51,
            ),
        ];
        for (edit, field, limit, actual) in cases {
            let mut record = rec();
            edit(&mut record);
            let err = validate(&record).unwrap_err();
            assert_eq!(
                (err.field.as_str(), err.limit, err.actual),
                (field, limit, actual)
            );
            if field == "source" {
                continue; // the resource's, not the record's
            }
            let err = validate_record(&Record::from(record)).unwrap_err();
            assert_eq!(
                (err.field.as_str(), err.limit, err.actual),
                (field, limit, actual),
                "the queued form"
            );
        }
    }

    #[test]
    fn limits_are_inclusive_and_count_characters_not_bytes() {
        let ok = LogRecord {
            message: "é".repeat(10_000),
            country: Some("ü".repeat(10)),
            step_index: Some(1000),
            tags: vec!["t".repeat(50); 20],
            ..rec()
        };
        assert_eq!(validate(&ok), Ok(()));
        assert!(validate(&LogRecord {
            source: Some("".into()),
            ..rec()
        })
        .is_err());
    }

    #[test]
    fn deep_data_is_rejected() {
        let mut v = json!(1);
        for _ in 0..1_000 {
            v = json!([v]);
        }
        let record = LogRecord {
            data: Some(serde_json::Map::from_iter([("deep".to_owned(), v)])),
            ..rec()
        };
        let err = validate(&record).unwrap_err();
        assert_eq!(err.violation, Violation::TooDeep);
        let shallow = LogRecord {
            data: Some(json!({"a": {"b": [1, 2]}}).as_object().unwrap().clone()),
            ..rec()
        };
        assert_eq!(validate(&shallow), Ok(()));
    }

    #[test]
    fn truncation_keeps_the_limit() {
        let s = truncate_chars("é".repeat(300), 200);
        assert_eq!(s.chars().count(), 200);
        assert!(s.ends_with("[truncated]"));
        assert_eq!(truncate_chars("short".into(), 200), "short");
    }
}
