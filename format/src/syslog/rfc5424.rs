//! The RFC 5424 reader: the header after `<PRI>1 `, the structured data
//! (our element's parameters back into record fields, other elements into
//! `data`) and the message. Apart from the PRI, it is the only reader that
//! can refuse a line, so the line fault type lives here.

use std::sync::Arc;

use serde_json::{Map, Value};
use timber_core::{Environment, LogRecord};

use crate::syslog::codes::SD_ID;
use crate::timestamp;

/// A fault at a byte offset of the line.
pub(super) type LineError = (usize, String);

/// Header fields that land in `data`.
#[derive(Default)]
pub(super) struct Header<'a> {
    pub(super) hostname: Option<&'a str>,
    pub(super) procid: Option<&'a str>,
    pub(super) msgid: Option<&'a str>,
}

/// An RFC 5424 line from `pos` (after `<PRI>1 `): the record, and the
/// header fields the caller puts into `data` next to the PRI's.
pub(super) fn read(line: &str, mut pos: usize) -> Result<(LogRecord, Header<'_>), LineError> {
    let mut fields = [""; 5];
    const NAMES: [&str; 5] = ["TIMESTAMP", "HOSTNAME", "APP-NAME", "PROCID", "MSGID"];
    let mut starts = [0; 5];
    for (i, name) in NAMES.iter().enumerate() {
        let end = line[pos..].find(' ').map(|e| pos + e).ok_or_else(|| {
            (
                line.len(),
                format!("missing {name} and the fields after it"),
            )
        })?;
        if end == pos {
            return Err((pos, format!("empty {name} (use `-` for none)")));
        }
        fields[i] = &line[pos..end];
        starts[i] = pos;
        pos = end + 1;
    }
    let opt = |s: &str| -> Option<String> { (s != "-").then(|| s.to_owned()) };
    let mut record = LogRecord::default();
    if fields[0] != "-" {
        record.timestamp = Some(
            timestamp::parse_full(fields[0])
                .ok_or_else(|| (starts[0], format!("invalid TIMESTAMP {:?}", fields[0])))?,
        );
    }
    record.source = opt(fields[2]).map(Arc::from);
    let header = Header {
        hostname: (fields[1] != "-").then_some(fields[1]),
        procid: (fields[3] != "-").then_some(fields[3]),
        msgid: (fields[4] != "-").then_some(fields[4]),
    };

    let bytes = line.as_bytes();
    let mut message_override = None;
    match bytes.get(pos) {
        Some(b'-') => pos += 1,
        Some(b'[') => {
            while bytes.get(pos) == Some(&b'[') {
                pos = structured_element(line, pos + 1, &mut record, &mut message_override)?;
            }
        }
        _ => return Err((pos, "expected STRUCTURED-DATA (`-` or `[...]`)".into())),
    }
    record.message = match bytes.get(pos) {
        None => String::new(),
        Some(b' ') => {
            let msg = &line[pos + 1..];
            msg.strip_prefix('\u{feff}').unwrap_or(msg).to_owned()
        }
        Some(_) => return Err((pos, "expected a space after STRUCTURED-DATA".into())),
    };
    if let Some(msg) = message_override {
        record.message = msg;
    }
    Ok((record, header))
}

/// Reads one `[ID name="value" ...]` element after its `[`; returns the
/// position after its `]`.
fn structured_element(
    line: &str,
    mut pos: usize,
    record: &mut LogRecord,
    message: &mut Option<String>,
) -> Result<usize, LineError> {
    let bytes = line.as_bytes();
    let name_end = |from: usize| {
        bytes[from..]
            .iter()
            .position(|&b| matches!(b, b' ' | b']' | b'=' | b'"') || !(33..=126).contains(&b))
            .map_or(bytes.len(), |e| from + e)
    };
    let id_end = name_end(pos);
    if id_end == pos {
        return Err((pos, "empty SD-ID".into()));
    }
    let id = &line[pos..id_end];
    let ours = id == SD_ID;
    pos = id_end;
    let mut foreign: Map<String, Value> = Map::new();
    loop {
        match bytes.get(pos) {
            Some(b']') => {
                pos += 1;
                break;
            }
            Some(b' ') => pos += 1,
            Some(_) => return Err((pos, format!("unexpected character in SD element {id}"))),
            None => return Err((pos, format!("unterminated SD element {id}"))),
        }
        let end = name_end(pos);
        if end == pos {
            return Err((pos, "empty PARAM-NAME".into()));
        }
        let name = &line[pos..end];
        pos = end;
        if bytes.get(pos) != Some(&b'=') || bytes.get(pos + 1) != Some(&b'"') {
            return Err((pos, format!("expected =\"value\" after {name}")));
        }
        pos += 2;
        let value_at = pos;
        let (value, after) = param_value(line, pos, ours)?;
        pos = after;
        if ours {
            set_param(record, message, name, value).map_err(|m| (value_at, m))?;
        } else {
            match foreign.get_mut(name) {
                Some(Value::Array(values)) => values.push(value.into()),
                Some(previous) => {
                    let first = previous.take();
                    *previous = Value::Array(vec![first, value.into()]);
                }
                None => {
                    foreign.insert(name.to_owned(), value.into());
                }
            }
        }
    }
    if !ours {
        record
            .data
            .get_or_insert_with(Map::new)
            .insert(id.to_owned(), Value::Object(foreign));
    }
    Ok(pos)
}

/// A quoted PARAM-VALUE from after its opening quote; returns the value and
/// the position after its closing quote.
fn param_value(line: &str, start: usize, ours: bool) -> Result<(String, usize), LineError> {
    let mut value = String::new();
    let mut chars = line[start..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((value, start + i + 1)),
            '\\' => match chars.clone().next() {
                Some((_, e @ ('"' | '\\' | ']'))) => {
                    chars.next();
                    value.push(e);
                }
                Some((_, 'n')) if ours => {
                    chars.next();
                    value.push('\n');
                }
                Some((_, 'r')) if ours => {
                    chars.next();
                    value.push('\r');
                }
                // RFC 5424: any other backslash is itself.
                _ => value.push('\\'),
            },
            c => value.push(c),
        }
    }
    Err((start, "unterminated PARAM-VALUE".into()))
}

fn set_param(
    r: &mut LogRecord,
    message: &mut Option<String>,
    name: &str,
    value: String,
) -> Result<(), String> {
    match name {
        "source" => r.source = Some(value.into()),
        "environment" => {
            r.environment = Some(value.parse::<Environment>().map_err(|e| e.to_string())?)
        }
        "version" => r.version = Some(value.into()),
        "userId" => r.user_id = Some(value.into()),
        "sessionId" => r.session_id = Some(value.into()),
        "requestId" => r.request_id = Some(value),
        "errorName" => r.error_name = Some(value),
        "errorStack" => r.error_stack = Some(value),
        "tag" => r.tags.push(value),
        "flowId" => r.flow_id = Some(value.into()),
        "stepIndex" => {
            r.step_index = Some(
                value
                    .parse()
                    .map_err(|_| format!("invalid stepIndex {value:?}"))?,
            )
        }
        "dataset" => r.dataset = Some(value.into()),
        "ipAddress" => r.ip_address = Some(value),
        "country" => r.country = Some(value),
        "msg" => *message = Some(value),
        "data" => {
            let data: Map<String, Value> = serde_json::from_str(&value)
                .map_err(|e| format!("the data parameter is not a JSON object: {e}"))?;
            let merged = r.data.get_or_insert_with(Map::new);
            for (k, v) in data {
                merged.insert(k, v);
            }
        }
        other => {
            r.data
                .get_or_insert_with(Map::new)
                .insert(other.to_owned(), Value::String(value));
        }
    }
    Ok(())
}
