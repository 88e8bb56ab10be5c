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

mod codes;
mod rfc3164;
mod rfc5424;
mod writer;

use serde_json::{Map, Value};
use timber_core::LogRecord;

use crate::error::{column_of, FormatError};
use crate::protocol::Format;
use codes::{level_of, severity_of, FACILITIES, SEVERITIES, USER};
use rfc5424::{Header, LineError};

pub use codes::SD_ID;
pub use writer::write;

// What both readers share lives here: the line loop, the PRI, the choice of
// RFC, and turning the PRI and the header into `level` and `data`. It calls
// the readers, never the other way round.

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

/// One line: its PRI; RFC 5424 when a VERSION follows it (1 to 3 digits, no
/// leading zero, then a space), else RFC 3164; then the PRI and the header
/// into the record.
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
        rfc5424::read(line, pos + digits + 1)?
    } else {
        (rfc3164::read(line, pos, now), Header::default())
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
