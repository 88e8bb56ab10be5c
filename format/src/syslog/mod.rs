//! `syslog`: writes RFC 5424 lines; reads RFC 5424 and RFC 3164 (BSD) lines.
//!
//! **Severity and level.** error = 3, warn = 4, info = 6, debug = 7; on reading,
//! emerg/alert/crit (0-2) are `error` and notice (5) is `info`, and the
//! original severity name is kept in `data.severity` when it is not the one
//! the level writes. The facility is kept in `data.facility` (its name, such
//! as `local4`) unless it is `user`, the facility written by default.
//!
//! **Header.** APP-NAME is `source`; HOSTNAME, PROCID and MSGID are
//! `data.hostname`, `data.procid` and `data.msgid`. Writing takes them back
//! from `data` when they fit the header's grammar.
//!
//! **Structured data.** The other record fields travel as parameters of the
//! `timber@32473` element (`environment`, `version`, `userId`, `sessionId`,
//! `requestId`, `errorName`, `errorStack`, one `tag` per tag, `flowId`,
//! `stepIndex`, `dataset`, `ipAddress`, `country`, `source` when it cannot be
//! an APP-NAME, `data` as JSON, and `msg` when the message has a line break).
//! Values use RFC 5424's escapes (`\"`, `\\`, `\]`), plus `\n`/`\r` inside this
//! element only. Other elements go into `data` under their SD-ID, as an object
//! of their parameters (a repeated parameter becomes an array).
//!
//! **RFC 3164.** `<PRI>Mmm dd hh:mm:ss HOSTNAME TAG[PID]: MSG`, plus what
//! real senders do: no PRI (read as user.notice), an RFC 3339 timestamp
//! (rsyslog's forward format), a fraction of a second or a year after the
//! date, no HOSTNAME (journald and local sockets: `systemd[1]: ...`), no TAG.
//! A BSD timestamp has no year or zone: it is read as UTC, in the latest year
//! that does not put it more than a day after the reference time (see
//! [`parse_at`]). A line without a recognizable timestamp is all message.
//!
//! ```
//! use timber_format::syslog;
//! use timber_core::Level;
//! let line = "<165>1 2024-01-15T10:30:00.000Z myhost api 1234 - - Connection refused";
//! let r = &syslog::parse(line)?[0];
//! assert_eq!((r.level, r.message.as_str(), r.source.as_deref()), (Level::Info, "Connection refused", Some("api")));
//! let data = r.data.as_ref().unwrap();
//! assert_eq!((data["hostname"].as_str(), data["facility"].as_str()), (Some("myhost"), Some("local4")));
//! assert_eq!(data["severity"], "notice");
//!
//! let bsd = syslog::parse_at("<30>Jan 15 10:30:00 systemd[1]: Started Session 42.", 1_705_314_600_000)?;
//! assert_eq!(bsd[0].source.as_deref(), Some("systemd"));
//! assert_eq!(bsd[0].timestamp, Some(1_705_314_600_000));
//! # Ok::<(), timber_format::FormatError>(())
//! ```

use std::fmt::Write as _;
use std::io;
use std::sync::Arc;

use serde_json::{Map, Value};
use timber_core::{Environment, Level, LogRecord, RawFormat as Format};

use crate::error::{column_of, FormatError};
use crate::timestamp;

/// The SD-ID of the element carrying the record's other fields (32473 is the
/// private enterprise number RFC 5612 reserves for documentation).
pub const SD_ID: &str = "timber@32473";

const FACILITIES: [&str; 24] = [
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
];
const USER: usize = 1;
const SEVERITIES: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];
const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn level_of(severity: usize) -> Level {
    match severity {
        0..=3 => Level::Error,
        4 => Level::Warn,
        5 | 6 => Level::Info,
        _ => Level::Debug,
    }
}

fn severity_of(level: Level) -> usize {
    match level {
        Level::Error => 3,
        Level::Warn => 4,
        Level::Info => 6,
        Level::Debug => 7,
    }
}

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

/// Reads RFC 5424 and RFC 3164 lines, inferring BSD timestamps' year from
/// the current time.
pub fn parse(input: &str) -> Result<Vec<LogRecord>, FormatError> {
    parse_at(input, timber_core::now_millis())
}

/// Like [`parse`], with `now_ms` (Unix milliseconds) as the reference time for
/// the year of BSD timestamps: the latest year that puts the timestamp no
/// more than a day after `now_ms`.
pub fn parse_at(input: &str, now_ms: i64) -> Result<Vec<LogRecord>, FormatError> {
    let mut records = Vec::new();
    for (index, line) in input.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        let record = parse_line(line, now_ms).map_err(|(at, message)| {
            FormatError::new(Format::Syslog, index + 1, column_of(line, at), message)
        })?;
        records.push(record);
    }
    Ok(records)
}

/// A fault at a byte offset of the line.
type LineError = (usize, String);

fn parse_line(line: &str, now: i64) -> Result<LogRecord, LineError> {
    let (pri, pos) = match parse_pri(line)? {
        Some((pri, len)) => (Some(pri), len),
        None => (None, 0),
    };
    let rest = &line.as_bytes()[pos..];
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let is_5424 = pri.is_some()
        && (1..=3).contains(&digits)
        && rest[0] != b'0'
        && rest.get(digits) == Some(&b' ');
    let (mut record, header) = if is_5424 {
        rfc5424(line, pos + digits + 1)?
    } else {
        (rfc3164(line, pos, now), Header::default())
    };
    let mut extra: Vec<(&str, Value)> = Vec::new();
    // Without a PRI, RFC 3164 means user.notice: read as plain `info`.
    if let Some(pri) = pri {
        let (facility, severity) = ((pri / 8) as usize, (pri % 8) as usize);
        record.level = level_of(severity);
        if facility != USER {
            extra.push(("facility", FACILITIES[facility].into()));
        }
        if severity != severity_of(record.level) {
            extra.push(("severity", SEVERITIES[severity].into()));
        }
    }
    for (key, value) in [
        ("hostname", header.hostname),
        ("procid", header.procid),
        ("msgid", header.msgid),
    ] {
        if let Some(value) = value {
            extra.push((key, value.into()));
        }
    }
    if !extra.is_empty() {
        let data = record.data.get_or_insert_with(Map::new);
        for (key, value) in extra {
            data.insert(key.to_owned(), value);
        }
    }
    Ok(record)
}

/// `<N>` with N in 0..=191; `None` when the line does not start with a PRI.
fn parse_pri(line: &str) -> Result<Option<(u32, usize)>, LineError> {
    let b = line.as_bytes();
    if b.first() != Some(&b'<') {
        return Ok(None);
    }
    let digits = b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 || b.get(1 + digits) != Some(&b'>') {
        return Ok(None);
    }
    if digits > 3 {
        return Err((1, "PRI has more than three digits".into()));
    }
    let pri: u32 = line[1..1 + digits]
        .parse()
        .map_err(|_| (1, "invalid PRI".to_owned()))?;
    if pri > 191 {
        return Err((1, format!("PRI {pri} is above 191")));
    }
    Ok(Some((pri, digits + 2)))
}

/// Header fields that land in `data`.
#[derive(Default)]
struct Header<'a> {
    hostname: Option<&'a str>,
    procid: Option<&'a str>,
    msgid: Option<&'a str>,
}

fn rfc5424(line: &str, mut pos: usize) -> Result<(LogRecord, Header<'_>), LineError> {
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

/// An RFC 3164 line from `pos` (after the PRI, if any). Never fails: what
/// does not parse is message.
fn rfc3164(line: &str, pos: usize, now: i64) -> LogRecord {
    let rest = &line[pos..];
    let stamp = timestamp::parse_prefix(rest)
        .or_else(|| bsd_timestamp(rest, now))
        .filter(|&(_, len)| rest[len..].is_empty() || rest[len..].starts_with(' '));
    let Some((ms, len)) = stamp else {
        return LogRecord::new(Level::Info, rest);
    };
    let mut record = LogRecord {
        timestamp: Some(ms),
        ..LogRecord::default()
    };
    let mut rest = rest[len..].trim_start_matches(' ');
    // HOSTNAME, unless the next word is already the TAG (`systemd[1]:`).
    let word_end = rest.find(' ').unwrap_or(rest.len());
    let word = &rest[..word_end];
    let mut hostname = None;
    if !word.is_empty() && !word.contains('[') && !word.ends_with(':') {
        hostname = Some(word);
        rest = rest[word_end..]
            .strip_prefix(' ')
            .unwrap_or(&rest[word_end..]);
    }
    let mut procid = None;
    if let Some((tag, pid, after)) = tag(rest) {
        record.source = Some(Arc::from(tag));
        procid = pid;
        rest = after;
    }
    record.message = rest.to_owned();
    let mut data = Map::new();
    if let Some(h) = hostname {
        data.insert("hostname".into(), h.into());
    }
    if let Some(p) = procid {
        data.insert("procid".into(), p.into());
    }
    if !data.is_empty() {
        record.data = Some(data);
    }
    record
}

/// `TAG[PID]: ` or `TAG: ` at the start of `s`: the tag, the pid and the rest.
fn tag(s: &str) -> Option<(&str, Option<&str>, &str)> {
    let end = s.find(['[', ':', ' '])?;
    if end == 0 || end > 48 {
        return None;
    }
    let tag = &s[..end];
    let mut rest = &s[end..];
    let mut pid = None;
    if let Some(after) = rest.strip_prefix('[') {
        let close = after.find(']')?;
        pid = Some(&after[..close]);
        rest = &after[close + 1..];
    }
    let rest = rest.strip_prefix(':')?;
    Some((tag, pid, rest.strip_prefix(' ').unwrap_or(rest)))
}

/// `Mmm dd hh:mm:ss` (day space- or zero-padded, an optional `.fff`, an
/// optional year before or after the time), with the year inferred.
fn bsd_timestamp(s: &str, now: i64) -> Option<(i64, usize)> {
    let b = s.as_bytes();
    let month = MONTHS
        .iter()
        .position(|m| b.len() >= 3 && m.as_bytes().eq_ignore_ascii_case(&b[..3]))?
        as u8
        + 1;
    let mut i = 3;
    let spaces = |i: &mut usize| {
        let start = *i;
        while b.get(*i) == Some(&b' ') {
            *i += 1;
        }
        *i > start
    };
    let number = |i: &mut usize, min: usize, max: usize| -> Option<u32> {
        let start = *i;
        let mut n = 0u32;
        while *i - start < max && b.get(*i).is_some_and(u8::is_ascii_digit) {
            n = n * 10 + u32::from(b[*i] - b'0');
            *i += 1;
        }
        (*i - start >= min).then_some(n)
    };
    if !spaces(&mut i) {
        return None;
    }
    let day = number(&mut i, 1, 2)? as u8;
    if !spaces(&mut i) {
        return None;
    }
    let mut year = None;
    let save = i;
    match number(&mut i, 4, 4) {
        Some(y) if b.get(i) == Some(&b' ') => {
            year = Some(y as i32);
            i += 1;
        }
        _ => i = save,
    }
    let hour = number(&mut i, 2, 2)? as u8;
    (b.get(i) == Some(&b':')).then_some(())?;
    i += 1;
    let minute = number(&mut i, 2, 2)? as u8;
    (b.get(i) == Some(&b':')).then_some(())?;
    i += 1;
    let second = number(&mut i, 2, 2)? as u8;
    let mut millis = 0u16;
    if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            if i - start < 3 {
                millis = millis * 10 + u16::from(b[i] - b'0');
            }
            i += 1;
        }
        for _ in (i - start)..3 {
            millis *= 10;
        }
    }
    if year.is_none() && b.get(i) == Some(&b' ') {
        let save = i;
        i += 1;
        match number(&mut i, 4, 4) {
            Some(y) if b.get(i).is_none_or(|&c| c == b' ') => year = Some(y as i32),
            _ => i = save,
        }
    }
    let at = |y: i32| timestamp::civil_millis(y, month, day, hour, minute, second, millis);
    let ms = match year {
        Some(y) => at(y)?,
        None => {
            // The latest year not more than a day ahead of `now` (Feb 29 may
            // need a few years back).
            let this = timestamp::year_of(now);
            let limit = now.saturating_add(86_400_000);
            (-8..=1)
                .rev()
                .find_map(|d| at(this + d).filter(|&ms| ms <= limit))?
        }
    };
    Some((ms, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bsd_lines() {
        let now = 1_705_314_600_000; // 2024-01-15T10:30:00Z
        let r = parse_line("<30>Jan 15 10:30:00 systemd[1]: Started Session 42.", now).unwrap();
        assert_eq!(r.timestamp, Some(now), "{r:?}");
        assert_eq!(r.source.as_deref(), Some("systemd"), "{r:?}");
    }
}
