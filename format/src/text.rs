//! `text`: one log per line. Written as `TIMESTAMP LEVEL message` (the
//! timestamp only when the record has one); read with an optional leading
//! timestamp and level, otherwise the whole line is the message.
//!
//! A level is recognized in upper case (`ERROR`), in brackets (`[error]`),
//! or in lower case right after a timestamp, optionally followed by `:`;
//! a capitalized word (`Error reading...`) is taken as prose.
//!
//! ```
//! use timber_format::text;
//! use timber_core::Level;
//! let records = text::parse("2024-01-15 10:30:00 ERROR Connection refused\nplain line\n[warn] disk")?;
//! assert_eq!(records[0].level, Level::Error);
//! assert_eq!(records[0].timestamp, Some(1_705_314_600_000));
//! assert_eq!((records[1].level, records[1].message.as_str()), (Level::Info, "plain line"));
//! assert_eq!((records[2].level, records[2].message.as_str()), (Level::Warn, "disk"));
//! # Ok::<(), timber_format::FormatError>(())
//! ```

use std::io;

use timber_core::{Level, LogRecord};

use crate::error::FormatError;
use crate::names::level_from_name;
use crate::timestamp;

/// Writes one line per record; line breaks inside a message become `\n`/`\r`.
pub fn write<W: io::Write>(records: &[LogRecord], writer: &mut W) -> io::Result<()> {
    let mut line = String::with_capacity(256);
    for record in records {
        line.clear();
        if let Some(ts) = record.timestamp.and_then(timestamp::format_millis) {
            line.push_str(&ts);
            line.push(' ');
        }
        line.push_str(upper(record.level));
        line.push(' ');
        for c in record.message.chars() {
            match c {
                '\n' => line.push_str("\\n"),
                '\r' => line.push_str("\\r"),
                c => line.push(c),
            }
        }
        line.push('\n');
        writer.write_all(line.as_bytes())?;
    }
    Ok(())
}

fn upper(level: Level) -> &'static str {
    match level {
        Level::Debug => "DEBUG",
        Level::Info => "INFO",
        Level::Warn => "WARN",
        Level::Error => "ERROR",
    }
}

/// Reads one record per non-blank line. Never fails: any line is a message.
pub fn parse(input: &str) -> Result<Vec<LogRecord>, FormatError> {
    Ok(input
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .filter(|line| !line.trim().is_empty())
        .map(parse_line)
        .collect())
}

fn parse_line(line: &str) -> LogRecord {
    let mut rest = line;
    let mut timestamp = None;
    if let Some((ms, len)) = leading_timestamp(rest) {
        timestamp = Some(ms);
        rest = rest[len..].trim_start_matches([' ', '\t']);
    }
    let mut level = Level::Info;
    if let Some((l, len)) = leading_level(rest, timestamp.is_some()) {
        level = l;
        rest = &rest[len..];
    } else if timestamp.is_none() {
        // No timestamp and no level: the line, as it is, is the message.
        rest = line;
    }
    LogRecord {
        timestamp,
        ..LogRecord::new(level, rest.trim_start_matches([' ', '\t']))
    }
}

/// An RFC 3339-like timestamp, bare or in brackets, followed by a blank or the end.
fn leading_timestamp(s: &str) -> Option<(i64, usize)> {
    let (inner, open) = match s.strip_prefix('[') {
        Some(inner) => (inner, 1),
        None => (s, 0),
    };
    let (ms, mut len) = timestamp::parse_prefix(inner)?;
    len += open;
    if open == 1 {
        s[len..].starts_with(']').then(|| len += 1)?;
    }
    ends_token(&s[len..]).then_some((ms, len))
}

/// A level word: `ERROR`, `[error]`, `ERROR:`, or lower case when `any_case`.
fn leading_level(s: &str, any_case: bool) -> Option<(Level, usize)> {
    let (word, len) = if let Some(inner) = s.strip_prefix('[') {
        let close = inner.find(']')?;
        (&inner[..close], close + 2)
    } else {
        let end = s
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(s.len());
        let word = &s[..end];
        let upper = !word.bytes().any(|b| b.is_ascii_lowercase());
        let lower = !word.bytes().any(|b| b.is_ascii_uppercase());
        // A capitalized word ("Error reading...") is prose, not a level.
        if !(upper || (any_case && lower)) {
            return None;
        }
        (word, end)
    };
    // Only names that are unlikely first words of a sentence.
    const TEXT_LEVELS: [&str; 11] = [
        "debug", "trace", "info", "notice", "warn", "warning", "error", "err", "fatal", "critical",
        "crit",
    ];
    if !TEXT_LEVELS.iter().any(|n| n.eq_ignore_ascii_case(word)) {
        return None;
    }
    let level = level_from_name(word)?;
    let len = if s[len..].starts_with(':') {
        len + 1
    } else {
        len
    };
    ends_token(&s[len..]).then_some((level, len))
}

fn ends_token(rest: &str) -> bool {
    rest.is_empty() || rest.starts_with([' ', '\t'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        let r = parse_line("ERROR");
        assert_eq!((r.level, r.message.as_str()), (Level::Error, ""));
        let r = parse_line("Error connecting");
        assert_eq!(
            (r.level, r.message.as_str()),
            (Level::Info, "Error connecting")
        );
        let r = parse_line("[2024-01-15T10:30:00.123Z] [INFO] started");
        assert_eq!(r.timestamp, Some(1_705_314_600_123));
        assert_eq!(r.message, "started");
        let r = parse_line("2024-01-15 10:30:00 warning: disk 91%");
        assert_eq!((r.level, r.message.as_str()), (Level::Warn, "disk 91%"));
        let r = parse_line("2024-01-15 10:30:00 Connection refused");
        assert_eq!(
            (r.level, r.message.as_str()),
            (Level::Info, "Connection refused")
        );
        let r = parse_line("WARN  padded");
        assert_eq!(r.message, "padded");
    }
}
