//! The protocol's validation limits, checked before a record is accepted.

use std::fmt;

use serde_json::{Map, Value};

use crate::LogRecord;

/// Limits from the protocol (lengths in characters).
pub mod limits {
    /// Longest message.
    pub const MESSAGE: usize = 10_000;
    /// Longest source.
    pub const SOURCE: usize = 100;
    /// Longest error name.
    pub const ERROR_NAME: usize = 200;
    /// Longest error stack.
    pub const ERROR_STACK: usize = 10_000;
    /// Longest user, session or request id.
    pub const ID: usize = 100;
    /// Longest flow id or dataset.
    pub const FLOW_ID: usize = 50;
    /// Longest dataset.
    pub const DATASET: usize = 50;
    /// Longest IP address.
    pub const IP_ADDRESS: usize = 100;
    /// Longest country.
    pub const COUNTRY: usize = 10;
    /// Highest step index.
    pub const STEP_INDEX: u32 = 1_000;
    /// Most tags on a record.
    pub const TAGS: usize = 20;
    /// Longest tag.
    pub const TAG: usize = 50;
    /// Deepest nesting of `data` (objects and arrays), so that every JSON
    /// parser the record meets (serde_json stops at 128) can read it.
    pub const DATA_DEPTH: usize = 100;
}

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
/// use timber_core::{validate, Level, LogRecord, Violation};
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

fn char_len(s: &str, max: usize) -> Option<usize> {
    // Bytes bound characters from above: skip the count when it cannot exceed.
    if s.len() <= max {
        return None;
    }
    let n = s.chars().count();
    (n > max).then_some(n)
}

fn check_len(field: &str, value: Option<&str>, max: usize) -> Result<(), ValidationError> {
    match value.and_then(|v| char_len(v, max)) {
        Some(actual) => Err(ValidationError {
            field: field.to_owned(),
            violation: Violation::TooLong,
            limit: max,
            actual,
        }),
        None => Ok(()),
    }
}

/// The message's limits: 1 to 10,000 characters.
pub(crate) fn check_message(message: &str) -> Result<(), ValidationError> {
    if message.is_empty() {
        return Err(ValidationError {
            field: "message".into(),
            violation: Violation::TooShort,
            limit: 1,
            actual: 0,
        });
    }
    check_len("message", Some(message), limits::MESSAGE)
}

/// Checks every limit of the protocol; the first broken one is the error.
pub fn validate(record: &LogRecord) -> Result<(), ValidationError> {
    use limits::*;
    check_message(&record.message)?;
    if let Some(source) = &record.source {
        if source.is_empty() {
            return Err(ValidationError {
                field: "source".into(),
                violation: Violation::TooShort,
                limit: 1,
                actual: 0,
            });
        }
        check_len("source", Some(source), SOURCE)?;
    }
    check_len("errorName", record.error_name.as_deref(), ERROR_NAME)?;
    check_len("errorStack", record.error_stack.as_deref(), ERROR_STACK)?;
    check_len("userId", record.user_id.as_deref(), ID)?;
    check_len("sessionId", record.session_id.as_deref(), ID)?;
    check_len("requestId", record.request_id.as_deref(), ID)?;
    check_len("flowId", record.flow_id.as_deref(), FLOW_ID)?;
    check_len("dataset", record.dataset.as_deref(), DATASET)?;
    check_len("ipAddress", record.ip_address.as_deref(), IP_ADDRESS)?;
    check_len("country", record.country.as_deref(), COUNTRY)?;
    check_len("version", record.version.as_deref(), ID)?;
    if let Some(step) = record.step_index {
        if step > STEP_INDEX {
            return Err(ValidationError {
                field: "stepIndex".into(),
                violation: Violation::TooLarge,
                limit: STEP_INDEX as usize,
                actual: step as usize,
            });
        }
    }
    check_tags(&record.tags)?;
    check_data(record.data.as_ref())
}

/// At most 20 tags of at most 50 characters.
pub(crate) fn check_tags(tags: &[String]) -> Result<(), ValidationError> {
    if tags.len() > limits::TAGS {
        return Err(ValidationError {
            field: "tags".into(),
            violation: Violation::TooMany,
            limit: limits::TAGS,
            actual: tags.len(),
        });
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

/// Data nested at most `DATA_DEPTH` levels.
pub(crate) fn check_data(data: Option<&Map<String, Value>>) -> Result<(), ValidationError> {
    let Some(data) = data else { return Ok(()) };
    let depth = data.values().map(depth_of).max().unwrap_or(0) + 1;
    if depth > limits::DATA_DEPTH {
        return Err(ValidationError {
            field: "data".into(),
            violation: Violation::TooDeep,
            limit: limits::DATA_DEPTH,
            actual: depth,
        });
    }
    Ok(())
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

/// Cuts `s` to at most `max` characters, marking the cut, for text the SDK
/// generates itself (error traces) rather than rejecting the whole record.
pub(crate) fn truncate_chars(mut s: String, max: usize) -> String {
    if char_len(&s, max).is_none() {
        return s;
    }
    const MARK: &str = "…[truncated]";
    let keep = max - MARK.chars().count();
    let cut = s.char_indices().nth(keep).map_or(s.len(), |(i, _)| i);
    s.truncate(cut);
    s.push_str(MARK);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Level;
    use serde_json::json;

    fn rec() -> LogRecord {
        LogRecord::new(Level::Info, "ok")
    }

    #[test]
    fn every_limit_names_field_limit_and_size() {
        let cases: Vec<(LogRecord, &str, usize, usize)> = vec![
            (
                LogRecord {
                    message: "x".repeat(10_001),
                    ..rec()
                },
                "message",
                10_000,
                10_001,
            ),
            (
                LogRecord {
                    source: Some("s".repeat(101).into()),
                    ..rec()
                },
                "source",
                100,
                101,
            ),
            (
                LogRecord {
                    error_name: Some("e".repeat(201)),
                    ..rec()
                },
                "errorName",
                200,
                201,
            ),
            (
                LogRecord {
                    error_stack: Some("e".repeat(10_001)),
                    ..rec()
                },
                "errorStack",
                10_000,
                10_001,
            ),
            (
                LogRecord {
                    user_id: Some("u".repeat(101).into()),
                    ..rec()
                },
                "userId",
                100,
                101,
            ),
            (
                LogRecord {
                    session_id: Some("u".repeat(101).into()),
                    ..rec()
                },
                "sessionId",
                100,
                101,
            ),
            (
                LogRecord {
                    request_id: Some("u".repeat(101)),
                    ..rec()
                },
                "requestId",
                100,
                101,
            ),
            (
                LogRecord {
                    flow_id: Some("f".repeat(51).into()),
                    ..rec()
                },
                "flowId",
                50,
                51,
            ),
            (
                LogRecord {
                    dataset: Some("d".repeat(51).into()),
                    ..rec()
                },
                "dataset",
                50,
                51,
            ),
            (
                LogRecord {
                    ip_address: Some("1".repeat(101)),
                    ..rec()
                },
                "ipAddress",
                100,
                101,
            ),
            (
                LogRecord {
                    country: Some("c".repeat(11)),
                    ..rec()
                },
                "country",
                10,
                11,
            ),
            (
                LogRecord {
                    step_index: Some(1001),
                    ..rec()
                },
                "stepIndex",
                1000,
                1001,
            ),
            (
                LogRecord {
                    tags: vec!["t".into(); 21],
                    ..rec()
                },
                "tags",
                20,
                21,
            ),
            (
                LogRecord {
                    tags: vec!["t".into(), "x".repeat(51)],
                    ..rec()
                },
                "tags[1]",
                50,
                51,
            ),
        ];
        for (record, field, limit, actual) in cases {
            let err = validate(&record).unwrap_err();
            assert_eq!(
                (err.field.as_str(), err.limit, err.actual),
                (field, limit, actual)
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
