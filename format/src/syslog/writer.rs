//! The writer: one RFC 5424 line per record. It has a file of its own
//! because it shares only the codes with the readers, not their grammar.

use std::fmt::Write as _;
use std::io;

use serde_json::Value;
use timber_core::LogRecord;

use crate::syslog::codes::{level_of, severity_of, FACILITIES, SD_ID, SEVERITIES, USER};
use crate::timestamp;

/// Whether `s` fits a header field: 1 to `max` printable ASCII, not `-`.
fn header_ok(s: &str, max: usize) -> bool {
    !s.is_empty() && s != "-" && s.len() <= max && s.bytes().all(|b| (33..=126).contains(&b))
}

/// Writes one RFC 5424 line per record.
pub fn write<W: io::Write>(records: &[LogRecord], writer: &mut W) -> io::Result<()> {
    let mut line = String::with_capacity(256);
    for record in records {
        line.clear();
        write_line(record, &mut line);
        line.push('\n');
        writer.write_all(line.as_bytes())?;
    }
    Ok(())
}

fn write_line(r: &LogRecord, line: &mut String) {
    let data = r.data.as_ref();
    let text = |key: &str| data.and_then(|d| d.get(key)).and_then(Value::as_str);
    let facility = text("facility")
        .and_then(|f| FACILITIES.iter().position(|n| *n == f))
        .filter(|&f| f != USER);
    let severity = text("severity")
        .and_then(|s| SEVERITIES.iter().position(|n| *n == s))
        .filter(|&s| level_of(s) == r.level && s != severity_of(r.level));
    let hostname = text("hostname").filter(|h| header_ok(h, 255));
    let procid = text("procid").filter(|p| header_ok(p, 128));
    let msgid = text("msgid").filter(|m| header_ok(m, 32));
    let app = r.source.as_deref().filter(|s| header_ok(s, 48));

    let pri = facility.unwrap_or(USER) * 8 + severity.unwrap_or_else(|| severity_of(r.level));
    let _ = write!(line, "<{pri}>1 ");
    match r.timestamp.and_then(timestamp::format_millis) {
        Some(ts) => line.push_str(&ts),
        None => line.push('-'),
    }
    for field in [hostname, app, procid, msgid] {
        line.push(' ');
        line.push_str(field.unwrap_or("-"));
    }
    line.push(' ');

    let start = line.len();
    line.push('[');
    line.push_str(SD_ID);
    let params_start = line.len();
    let mut param = |name: &str, value: &str| {
        line.push(' ');
        line.push_str(name);
        line.push_str("=\"");
        escape_into(value, line);
        line.push('"');
    };
    if app.is_none() {
        if let Some(source) = &r.source {
            param("source", source);
        }
    }
    if let Some(e) = r.environment {
        param("environment", e.as_str());
    }
    let optional: [(&str, Option<&str>); 7] = [
        ("version", r.version.as_deref()),
        ("userId", r.user_id.as_deref()),
        ("sessionId", r.session_id.as_deref()),
        ("requestId", r.request_id.as_deref()),
        ("errorName", r.error_name.as_deref()),
        ("errorStack", r.error_stack.as_deref()),
        ("flowId", r.flow_id.as_deref()),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            param(name, value);
        }
    }
    for tag in &r.tags {
        param("tag", tag);
    }
    if let Some(i) = r.step_index {
        param("stepIndex", &i.to_string());
    }
    for (name, value) in [
        ("dataset", r.dataset.as_deref()),
        ("ipAddress", r.ip_address.as_deref()),
        ("country", r.country.as_deref()),
    ] {
        if let Some(value) = value {
            param(name, value);
        }
    }
    let multiline = r.message.contains(['\n', '\r']) || r.message.starts_with('\u{feff}');
    if multiline {
        param("msg", &r.message);
    }
    if let Some(data) = data {
        let moved = [
            ("facility", facility.is_some()),
            ("severity", severity.is_some()),
            ("hostname", hostname.is_some()),
            ("procid", procid.is_some()),
            ("msgid", msgid.is_some()),
        ];
        if moved.iter().any(|(_, m)| *m) {
            let mut rest = data.clone();
            for (key, m) in moved {
                if m {
                    rest.remove(key);
                }
            }
            // The header brings the moved keys back; an empty rest needs no param.
            if !rest.is_empty() {
                param("data", &Value::Object(rest).to_string());
            }
        } else {
            param("data", &Value::Object(data.clone()).to_string());
        }
    }
    if line.len() == params_start {
        line.truncate(start);
        line.push('-');
    } else {
        line.push(']');
    }
    if !r.message.is_empty() {
        line.push(' ');
        if multiline {
            let one_line = r
                .message
                .trim_start_matches('\u{feff}')
                .replace(['\n', '\r'], " ");
            line.push_str(&one_line);
        } else {
            line.push_str(&r.message);
        }
    }
}

/// RFC 5424 escapes, plus `\n` and `\r` so a value never breaks the line.
fn escape_into(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ']' => out.push_str("\\]"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}
