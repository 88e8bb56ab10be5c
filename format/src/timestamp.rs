//! RFC 3339 timestamps and Unix milliseconds. The calendar math is the
//! `time` crate's; this module only tokenizes the lenient forms found in
//! real logs (space or `T`, optional fraction, optional offset).

use time::format_description::FormatItem;
use time::macros::format_description;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

const RFC3339_MILLIS: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// The first and last Unix milliseconds with a four-digit year (0000-9999).
pub(crate) const MIN_MS: i64 = -62_167_219_200_000;
pub(crate) const MAX_MS: i64 = 253_402_300_799_999;

/// Whether `ms` can be written as an RFC 3339 timestamp.
pub(crate) fn representable(ms: i64) -> bool {
    (MIN_MS..=MAX_MS).contains(&ms)
}

/// `2024-01-15T10:30:00.000Z`, or `None` outside the years 0000-9999.
pub(crate) fn format_millis(ms: i64) -> Option<String> {
    if !representable(ms) {
        return None;
    }
    let dt = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()?;
    dt.format(RFC3339_MILLIS).ok()
}

/// Unix milliseconds of a date-time (sub-millisecond digits are floored).
pub(crate) fn to_millis(dt: OffsetDateTime) -> i64 {
    // Years are bounded by `time` (±9999), so this always fits in i64.
    dt.unix_timestamp_nanos().div_euclid(1_000_000) as i64
}

/// Parses a whole string as a date-time (see [`parse_prefix`]); digits alone
/// are not accepted here.
pub(crate) fn parse_full(s: &str) -> Option<i64> {
    match parse_prefix(s) {
        Some((ms, len)) if len == s.len() => Some(ms),
        _ => None,
    }
}

/// Reads `YYYY-MM-DD(T| )HH:MM[:SS[(.|,)fraction]][Z|±HH[:]MM]` at the start
/// of `s`; returns the Unix milliseconds and the bytes consumed. Without an
/// offset the time is taken as UTC.
pub(crate) fn parse_prefix(s: &str) -> Option<(i64, usize)> {
    let b = s.as_bytes();
    let mut p = Cursor { b, i: 0 };
    let year = p.digits(4, 4)? as i32;
    p.byte(b'-')?;
    let month = p.digits(2, 2)?;
    p.byte(b'-')?;
    let day = p.digits(2, 2)?;
    match p.peek() {
        Some(b'T' | b't' | b' ') => p.i += 1,
        _ => return None,
    }
    let hour = p.digits(2, 2)?;
    p.byte(b':')?;
    let minute = p.digits(2, 2)?;
    let mut second = 0;
    let mut nanos = 0;
    if p.peek() == Some(b':') {
        p.i += 1;
        second = p.digits(2, 2)?;
        if matches!(p.peek(), Some(b'.' | b',')) && p.peek_at(1).is_some_and(|c| c.is_ascii_digit())
        {
            p.i += 1;
            let start = p.i;
            while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                p.i += 1;
            }
            // Keep nanosecond precision; further digits are ignored.
            for (k, d) in b[start..p.i].iter().take(9).enumerate() {
                nanos += u32::from(d - b'0') * 10u32.pow(8 - k as u32);
            }
        }
    }
    let offset = match p.peek() {
        Some(b'Z' | b'z') => {
            p.i += 1;
            UtcOffset::UTC
        }
        Some(sign @ (b'+' | b'-')) => {
            let save = p.i;
            p.i += 1;
            let parsed = (|| {
                let h = p.digits(2, 2)?;
                if p.peek() == Some(b':') {
                    p.i += 1;
                }
                let m = p.digits(2, 2)?;
                let (h, m) = (h as i8, m as i8);
                let (h, m) = if sign == b'-' { (-h, -m) } else { (h, m) };
                UtcOffset::from_hms(h, m, 0).ok()
            })();
            match parsed {
                Some(o) => o,
                None => {
                    p.i = save;
                    UtcOffset::UTC
                }
            }
        }
        _ => UtcOffset::UTC,
    };
    let date =
        Date::from_calendar_date(year, Month::try_from(month as u8).ok()?, day as u8).ok()?;
    let time = Time::from_hms_nano(hour as u8, minute as u8, second as u8, nanos).ok()?;
    let dt = PrimitiveDateTime::new(date, time).assume_offset(offset);
    Some((to_millis(dt), p.i))
}

/// A civil date-time in UTC, as Unix milliseconds (for BSD syslog stamps).
pub(crate) fn civil_millis(
    year: i32,
    month: u8,
    day: u8,
    h: u8,
    m: u8,
    s: u8,
    ms: u16,
) -> Option<i64> {
    let date = Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()?;
    let time = Time::from_hms_milli(h, m, s, ms).ok()?;
    Some(to_millis(PrimitiveDateTime::new(date, time).assume_utc()))
}

/// The UTC year of Unix milliseconds.
pub(crate) fn year_of(ms: i64) -> i32 {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map(|d| d.year())
        .unwrap_or(1970)
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn peek_at(&self, k: usize) -> Option<u8> {
        self.b.get(self.i + k).copied()
    }

    fn byte(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// Between `min` and `max` ASCII digits as a number.
    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.i;
        let mut n = 0u32;
        while self.i - start < max {
            match self.peek() {
                Some(c @ b'0'..=b'9') => {
                    n = n * 10 + u32::from(c - b'0');
                    self.i += 1;
                }
                _ => break,
            }
        }
        (self.i - start >= min).then_some(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses() {
        assert_eq!(format_millis(0).unwrap(), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_millis(MAX_MS).unwrap(), "9999-12-31T23:59:59.999Z");
        assert_eq!(format_millis(MIN_MS).unwrap(), "0000-01-01T00:00:00.000Z");
        assert_eq!(format_millis(MAX_MS + 1), None);
        assert_eq!(
            parse_full("2024-01-15T10:30:00.000Z"),
            Some(1_705_314_600_000)
        );
        assert_eq!(parse_full("2024-01-15 10:30:00"), Some(1_705_314_600_000));
        assert_eq!(
            parse_full("2024-01-15T11:30:00.0009+01:00"),
            Some(1_705_314_600_000)
        );
        assert_eq!(parse_full("1969-12-31T23:59:59.9999Z"), Some(-1));
        assert_eq!(
            parse_prefix("2024-01-15 10:30:00 ERROR x").map(|p| p.1),
            Some(19)
        );
        assert_eq!(parse_full("2024-02-30T00:00:00Z"), None);
        assert_eq!(parse_full("2024-01-15"), None);
    }
}
