//! Queue entries written as wire JSON, without building `LogRecord`s.
//!
//! The caller renders its data and tags to JSON text once, when it logs
//! (`render_extra`); the worker then writes each record of a batch by
//! copying that text between the record's other fields (`Stamp::write`).
//! The fields come in `LogRecord`'s order, so the bytes are those serde
//! writes for the same record.

use std::sync::Arc;

use serde::Serialize;

use crate::batch::write_record;
use crate::pending::{Pending, Plain, Traced, NO_STEP};
use crate::redact::{Redacted, Redactor};
use crate::spare;
use crate::validate::limits;
use crate::{Config, Environment, Error, LogRecord, ValidationError, Violation};

/// The configuration's fields, rendered once per client.
pub(crate) struct Stamp {
    source: Arc<str>,
    environment: Environment,
    version: Option<Arc<str>>,
    dataset: Option<Arc<str>>,
    /// `,"source":..,"environment":..[,"version":..]`: between message and user id.
    head: Vec<u8>,
    /// `[,"dataset":..]`: between step index and timestamp.
    tail: Vec<u8>,
}

impl Stamp {
    pub(crate) fn new(config: &Config) -> Stamp {
        let mut head = Vec::new();
        member_str(&mut head, "source", &config.source);
        member_str(&mut head, "environment", config.environment.as_str());
        if let Some(version) = &config.version {
            member_str(&mut head, "version", version);
        }
        let mut tail = Vec::new();
        if let Some(dataset) = &config.dataset {
            member_str(&mut tail, "dataset", dataset);
        }
        Stamp {
            source: config.source.clone(),
            environment: config.environment,
            version: config.version.clone(),
            dataset: config.dataset.clone(),
            head,
            tail,
        }
    }

    /// Bytes the client's fields add to each plain record.
    pub(crate) fn len(&self) -> usize {
        self.head.len() + self.tail.len()
    }

    /// Writes a queue entry as one record object, with the client's fields
    /// where the record has none of its own; returns the entry's buffer when
    /// it is worth recycling.
    pub(crate) fn write(&self, out: &mut Vec<u8>, pending: Pending) -> Option<Vec<u8>> {
        match pending {
            Pending::Plain(plain) => {
                self.write_plain(out, &plain);
                let extra = plain.extra;
                (extra.spilled() && extra.capacity() <= spare::KEEP_CAPACITY)
                    .then(|| extra.into_vec())
            }
            Pending::Full(record) => {
                self.write_full(out, *record);
                None
            }
            Pending::Traced(traced) => {
                let Traced {
                    mut record,
                    backtrace,
                } = *traced;
                // Symbols are resolved here, on the worker, not by the caller.
                crate::backtrace::append(
                    record.error_stack.get_or_insert_with(String::new),
                    &backtrace,
                );
                self.write_full(out, record);
                None
            }
        }
    }

    fn write_full(&self, out: &mut Vec<u8>, mut record: LogRecord) {
        record.source.get_or_insert_with(|| self.source.clone());
        record.environment.get_or_insert(self.environment);
        if record.version.is_none() {
            record.version.clone_from(&self.version);
        }
        if record.dataset.is_none() {
            record.dataset.clone_from(&self.dataset);
        }
        write_record(out, &record);
    }

    fn write_plain(&self, out: &mut Vec<u8>, p: &Plain) {
        out.extend_from_slice(b"{\"level\":\"");
        out.extend_from_slice(p.level.as_str().as_bytes());
        out.extend_from_slice(b"\",\"message\":");
        write_str(out, &p.message);
        out.extend_from_slice(&self.head);
        out.extend_from_slice(&p.extra);
        if let Some(flow) = &p.flow_id {
            member_str(out, "flowId", flow);
        }
        if p.step_index != NO_STEP {
            out.extend_from_slice(b",\"stepIndex\":");
            out.extend_from_slice(itoa::Buffer::new().format(p.step_index).as_bytes());
        }
        out.extend_from_slice(&self.tail);
        out.extend_from_slice(b",\"timestamp\":");
        out.extend_from_slice(itoa::Buffer::new().format(p.timestamp).as_bytes());
        out.push(b'}');
    }
}

/// `,"name":"value"`, the value escaped.
pub(crate) fn member_str(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
    write_str(out, value);
}

/// A JSON string; cannot fail (a string, into memory).
fn write_str(out: &mut Vec<u8>, s: &str) {
    let _ = serde_json::to_writer(out, s);
}

/// Renders a plain record's data and tags as its `,"data":{..}` and
/// `,"tags":[..]` members (empty when it has neither), into a recycled
/// buffer. Data that serializes to `null` is no data; anything else but an
/// object is refused, and so is an object nested deeper than the protocol
/// allows.
pub(crate) fn render_extra(
    data: impl Serialize,
    tags: &[String],
    redactor: Option<&Redactor>,
) -> Result<Vec<u8>, Error> {
    let mut buf = spare::take();
    match render_into(&mut buf, data, tags, redactor) {
        Ok(()) if !buf.is_empty() => Ok(buf),
        result => {
            spare::keep(buf);
            result.map(|()| Vec::new())
        }
    }
}

fn render_into(
    out: &mut Vec<u8>,
    data: impl Serialize,
    tags: &[String],
    redactor: Option<&Redactor>,
) -> Result<(), Error> {
    const DATA: &[u8] = b",\"data\":";
    out.extend_from_slice(DATA);
    match redactor {
        None => serde_json::to_writer(&mut *out, &data),
        Some(redactor) => serde_json::to_writer(
            &mut *out,
            &Redacted {
                value: &data,
                redactor,
            },
        ),
    }
    .map_err(|e| Error::InvalidData(e.to_string()))?;
    let value = &out[DATA.len()..];
    match value.first().copied().unwrap_or(b'n') {
        b'n' => out.clear(),
        b'{' => {
            if let Some(depth) = excess_depth(value) {
                return Err(Error::Validation(ValidationError {
                    field: "data".into(),
                    violation: Violation::TooDeep,
                    limit: limits::DATA_DEPTH,
                    actual: depth,
                }));
            }
        }
        first => {
            let kind = match first {
                b'"' => "a string",
                b'[' => "an array",
                b't' | b'f' => "a boolean",
                _ => "a number",
            };
            return Err(Error::InvalidData(format!(
                "data must be a JSON object, got {kind}"
            )));
        }
    }
    if !tags.is_empty() {
        out.extend_from_slice(b",\"tags\":");
        let _ = serde_json::to_writer(&mut *out, tags);
    }
    Ok(())
}

/// The nesting depth of valid JSON text, when deeper than the protocol allows.
fn excess_depth(json: &[u8]) -> Option<usize> {
    // Each level takes two bytes, and opening brackets (even those inside
    // strings) bound the depth from above: both are cheap and usually settle it.
    if json.len() < 2 * (limits::DATA_DEPTH + 1) {
        return None;
    }
    let brackets = json.iter().filter(|&&b| b == b'{' || b == b'[').count();
    if brackets <= limits::DATA_DEPTH {
        return None;
    }
    let depth = json_depth(json);
    (depth > limits::DATA_DEPTH).then_some(depth)
}

/// The deepest nesting of objects and arrays in valid JSON text.
fn json_depth(json: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for &b in json {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn depth_counts_brackets_outside_strings() {
        assert_eq!(json_depth(br#"{}"#), 1);
        assert_eq!(json_depth(br#"{"a":[1,{"b":"}]{[\"["}]}"#), 3);
        assert_eq!(json_depth(br#"{"a":"\\","b":[[]]}"#), 3);
    }

    #[test]
    fn data_and_tags_render_as_members() {
        let tags = vec!["a\"b".to_owned()];
        let out = render_extra(json!({"k": [1]}), &tags, None).unwrap();
        assert_eq!(out, br#","data":{"k":[1]},"tags":["a\"b"]"#);
        assert!(render_extra((), &[], None).unwrap().is_empty());
        let err = render_extra(json!([1]), &[], None).unwrap_err();
        assert_eq!(
            err.to_string(),
            Error::InvalidData("data must be a JSON object, got an array".into()).to_string()
        );
    }
}
