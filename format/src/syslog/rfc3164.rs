//! The RFC 3164 (BSD) reader, lenient as real senders need: it never fails,
//! and what does not parse is message. It shares nothing with the RFC 5424
//! reader but the PRI, which the caller reads.

use std::sync::Arc;

use serde_json::Map;
use timber_core::{Level, LogRecord};

use crate::timestamp;

/// Month abbreviations of a BSD timestamp, matched case-insensitively.
const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// An RFC 3164 line from `pos` (after the PRI, if any). Never fails: what
/// does not parse is message.
pub(super) fn read(line: &str, pos: usize, now: i64) -> LogRecord {
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
