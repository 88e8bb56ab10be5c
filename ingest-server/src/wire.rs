//! The cheap path for `{"logs":[...]}` bodies: parse into borrowed fields,
//! check the protocol's limits, count levels and flows, and build no
//! `LogRecord`. Records are materialized only when someone asks for them.
//!
//! The cheap path only ever says "valid" for a body that the full path
//! (`LogRecord` + `timber_core::record::validate`) accepts too; whenever it cannot
//! vouch for a body it answers `None`, and the full path decides and words
//! the refusal, so answers stay exactly what they were.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{Deserializer, Error as _, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use timber_core::record::{limits, validate};
use timber_core::{Environment, Level, LogRecord};

/// What the counters need from an accepted batch.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Tally {
    pub(crate) records: u64,
    pub(crate) by_level: BTreeMap<Level, u64>,
    pub(crate) by_flow: BTreeMap<String, u64>,
}

impl Tally {
    fn add(&mut self, level: Level, flow_id: Option<&str>) {
        self.records += 1;
        *self.by_level.entry(level).or_default() += 1;
        if let Some(flow) = flow_id {
            match self.by_flow.get_mut(flow) {
                Some(n) => *n += 1,
                None => drop(self.by_flow.insert(flow.to_owned(), 1)),
            }
        }
    }
}

/// The full path: every record parsed and validated; the error is the
/// reason sent back with the 400.
pub(crate) fn parse_records(body: &[u8]) -> Result<Vec<LogRecord>, String> {
    #[derive(Deserialize)]
    struct Body {
        logs: Vec<LogRecord>,
    }
    let parsed: Body = serde_json::from_slice(body).map_err(|e| format!("invalid body: {e}"))?;
    for (i, record) in parsed.logs.iter().enumerate() {
        validate(record).map_err(|e| format!("logs[{i}]: {e}"))?;
    }
    Ok(parsed.logs)
}

/// Checks a batch body; the tally, or the full path's reason for refusing it.
pub(crate) fn check(body: &[u8]) -> Result<Tally, String> {
    if let Some(tally) = check_fast(body) {
        debug_assert!(
            parse_records(body).is_ok(),
            "the cheap path accepted what the full path refuses"
        );
        return Ok(tally);
    }
    let records = parse_records(body)?;
    let mut tally = Tally::default();
    for r in &records {
        tally.add(r.level, r.flow_id.as_deref());
    }
    Ok(tally)
}

/// The cheap path: `None` when the body is invalid or merely unusual.
fn check_fast(body: &[u8]) -> Option<Tally> {
    #[derive(Deserialize)]
    struct Body {
        logs: Logs,
    }
    // One pass of UTF-8 validation over the whole body is much cheaper than
    // serde_json's per-string validation of a byte slice.
    let body = std::str::from_utf8(body).ok()?;
    serde_json::from_str::<Body>(body).ok().map(|b| b.logs.0)
}

/// `logs`, tallied record by record as it is parsed (no list of records is
/// built); the first record out of limits ends the cheap path.
struct Logs(Tally);

impl<'de> Deserialize<'de> for Logs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Logs;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of records")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Logs, A::Error> {
                let mut tally = Tally::default();
                while let Some(record) = seq.next_element::<Record<'de>>()? {
                    if !record.within_limits() {
                        return Err(A::Error::custom("a record is out of limits"));
                    }
                    tally.add(record.level, record.flow_id.as_ref().map(|f| &*f.0));
                }
                Ok(Logs(tally))
            }
        }
        d.deserialize_seq(V)
    }
}

/// A record as it is on the wire, strings borrowed from the body (owned
/// only when they hold escapes). Same fields and types as `LogRecord`, so
/// that it accepts the same JSON, except `data`, kept as raw text.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record<'a> {
    level: Level,
    #[serde(borrow)]
    message: Text<'a>,
    #[serde(borrow)]
    source: Option<Text<'a>>,
    // Parsed only so that a bad value is refused as before.
    #[allow(dead_code)]
    environment: Option<Environment>,
    #[serde(borrow)]
    version: Option<Text<'a>>,
    #[serde(borrow)]
    user_id: Option<Text<'a>>,
    #[serde(borrow)]
    session_id: Option<Text<'a>>,
    #[serde(borrow)]
    request_id: Option<Text<'a>>,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
    #[serde(borrow)]
    error_name: Option<Text<'a>>,
    #[serde(borrow)]
    error_stack: Option<Text<'a>>,
    #[serde(default)]
    tags: Tags,
    #[serde(borrow)]
    flow_id: Option<Text<'a>>,
    step_index: Option<u32>,
    #[serde(borrow)]
    dataset: Option<Text<'a>>,
    #[allow(dead_code)]
    timestamp: Option<i64>,
    #[serde(borrow)]
    ip_address: Option<Text<'a>>,
    #[serde(borrow)]
    country: Option<Text<'a>>,
}

impl Record<'_> {
    /// The limits of `timber_core::record::validate`, as a yes or no.
    fn within_limits(&self) -> bool {
        use limits::*;
        let within = |field: &Option<Text>, max| field.as_ref().is_none_or(|t| fits(&t.0, max));
        !self.message.0.is_empty()
            && fits(&self.message.0, MESSAGE)
            && self.source.as_ref().is_none_or(|s| !s.0.is_empty())
            && within(&self.source, SOURCE)
            && within(&self.error_name, ERROR_NAME)
            && within(&self.error_stack, ERROR_STACK)
            && within(&self.user_id, ID)
            && within(&self.session_id, ID)
            && within(&self.request_id, ID)
            && within(&self.flow_id, FLOW_ID)
            && within(&self.dataset, DATASET)
            && within(&self.ip_address, IP_ADDRESS)
            && within(&self.country, COUNTRY)
            && within(&self.version, ID)
            && self.step_index.is_none_or(|s| s <= STEP_INDEX)
            && self.tags.0
            && self.data.is_none_or(|d| {
                d.get().starts_with('{') && plain_depth(d.get()).is_some_and(|n| n <= DATA_DEPTH)
            })
    }
}

/// At most `max` characters (bytes bound characters from above).
fn fits(s: &str, max: usize) -> bool {
    s.len() <= max || s.chars().count() <= max
}

/// A string field, borrowed when the JSON text holds no escapes.
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(s.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// Whether `tags` is within limits (at most 20, each at most 50
/// characters), checked while parsing, without collecting the tags.
struct Tags(bool);

impl Default for Tags {
    fn default() -> Self {
        Tags(true)
    }
}

impl<'de> Deserialize<'de> for Tags {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Tags;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of strings")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tags, A::Error> {
                let (mut n, mut ok) = (0, true);
                while let Some(tag) = seq.next_element::<Text>()? {
                    n += 1;
                    ok &= fits(&tag.0, limits::TAG);
                }
                Ok(Tags(ok && n <= limits::TAGS))
            }
        }
        d.deserialize_seq(V)
    }
}

/// Nesting depth of `data`'s JSON text, counted as `validate` counts it,
/// or `None` for text whose full parse might fail where skipping it did
/// not: `\u` escapes (lone surrogates), exponents and long numbers
/// (out of `f64` range). Such text is left to the full path.
fn plain_depth(raw: &str) -> Option<usize> {
    let (mut depth, mut deepest, mut number) = (0usize, 0, 0);
    let mut bytes = raw.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'"' => loop {
                match bytes.next()? {
                    b'"' => break,
                    b'\\' if bytes.next()? == b'u' => return None,
                    _ => {}
                }
            },
            b'{' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b'0'..=b'9' | b'-' | b'.' => {
                number += 1;
                if number > 20 {
                    return None;
                }
                continue;
            }
            b'e' | b'E' if number > 0 => return None,
            _ => {}
        }
        number = 0;
    }
    Some(deepest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(record: &str) -> String {
        format!(r#"{{"logs":[{record}]}}"#)
    }

    #[test]
    fn the_cheap_path_takes_ordinary_records() {
        let b = body(
            r#"{"level":"warn","message":"disk \"sda\"","data":{"a":[1,{"b":null}],"c":"x"},
                "tags":["t"],"flowId":"f-1","stepIndex":3,"timestamp":1700000000000}"#,
        );
        let tally = check_fast(b.as_bytes()).expect("cheap path");
        assert_eq!(tally.records, 1);
        assert_eq!(tally.by_flow.get("f-1"), Some(&1));
        assert_eq!(Ok(tally), check(b.as_bytes()));
    }

    #[test]
    fn the_cheap_path_never_accepts_what_the_full_path_refuses() {
        let deep = |n: usize| {
            format!(
                r#"{{"level":"info","message":"m","data":{}1{}}}"#,
                r#"{"a":"#.repeat(n),
                "}".repeat(n)
            )
        };
        let cases = [
            r#"{"level":"info","message":""}"#.to_owned(),
            r#"{"level":"info","message":"m","source":""}"#.to_owned(),
            format!(
                r#"{{"level":"info","message":"m","country":"{}"}}"#,
                "é".repeat(11)
            ),
            format!(
                r#"{{"level":"info","message":"m","tags":["{}"]}}"#,
                "t".repeat(51)
            ),
            format!(
                r#"{{"level":"info","message":"m","tags":[{}"t"]}}"#,
                r#""t","#.repeat(20)
            ),
            r#"{"level":"info","message":"m","tags":null}"#.to_owned(),
            r#"{"level":"info","message":"m","stepIndex":1001}"#.to_owned(),
            r#"{"level":"info","message":"m","data":[1]}"#.to_owned(),
            r#"{"level":"info","message":"m","data":{"x":1e400}}"#.to_owned(),
            format!(
                r#"{{"level":"info","message":"m","data":{{"x":1{}}}}}"#,
                "0".repeat(400)
            ),
            r#"{"level":"info","message":"m","data":{"x":"\ud800"}}"#.to_owned(),
            r#"{"level":"info","message":"m","message":"n"}"#.to_owned(),
            r#"{"level":"loud","message":"m"}"#.to_owned(),
            r#"{"level":"info","message":"m","environment":"moon"}"#.to_owned(),
            deep(101),
            deep(200),
        ];
        for case in cases {
            let b = body(&case);
            assert!(check_fast(b.as_bytes()).is_none(), "{case}");
            assert!(check(b.as_bytes()).is_err(), "{case}");
        }
        // At the limits: both paths accept.
        for case in [
            deep(100),
            format!(
                r#"{{"level":"info","message":"m","country":"{}"}}"#,
                "é".repeat(10)
            ),
        ] {
            let b = body(&case);
            assert!(check_fast(b.as_bytes()).is_some(), "{case}");
            assert!(parse_records(b.as_bytes()).is_ok(), "{case}");
        }
    }

    #[test]
    fn unusual_but_valid_data_goes_the_full_way() {
        let b = body(r#"{"level":"info","message":"m","data":{"x":1.5e3,"y":"\u00e9"}}"#);
        assert!(check_fast(b.as_bytes()).is_none());
        assert_eq!(check(b.as_bytes()).map(|t| t.records), Ok(1));
    }
}
