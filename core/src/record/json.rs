//! JSON values written straight to text, for data built field by field
//! (the `tracing` and `log` integrations): strings escaped by serde_json,
//! numbers JSON can hold as numbers, the rest as their text.

use std::fmt;

use serde::Serializer as _;

/// One JSON value, already written as text: a span's field kept to be
/// copied into the data of every event inside the span, say.
///
/// ```
/// use timber_core::record::JsonValue;
/// assert_eq!(JsonValue::str("a \"quote\"").as_str(), r#""a \"quote\"""#);
/// assert_eq!(JsonValue::f64(f64::NAN).as_str(), r#""NaN""#);
/// assert_eq!(JsonValue::i128(i128::MAX).as_str(), format!("\"{}\"", i128::MAX));
/// assert_eq!(JsonValue::debug(&Some(1)).as_str(), r#""Some(1)""#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonValue(Box<str>);

impl JsonValue {
    fn of(write: impl FnOnce(&mut Vec<u8>)) -> JsonValue {
        let mut out = Vec::new();
        write(&mut out);
        // Written by the functions below: valid UTF-8.
        JsonValue(String::from_utf8(out).unwrap_or_default().into_boxed_str())
    }

    /// A string.
    pub fn str(value: &str) -> JsonValue {
        Self::of(|out| write_str(out, value))
    }

    /// A value's `Display` text, as a string.
    pub fn display(value: &dyn fmt::Display) -> JsonValue {
        Self::of(|out| write_display(out, value))
    }

    /// A value's `Debug` text, as a string.
    pub fn debug(value: &dyn fmt::Debug) -> JsonValue {
        Self::of(|out| write_debug(out, value))
    }

    /// A boolean.
    pub fn bool(value: bool) -> JsonValue {
        Self::of(|out| write_bool(out, value))
    }

    /// An integer.
    pub fn i64(value: i64) -> JsonValue {
        Self::of(|out| write_i64(out, value))
    }

    /// An unsigned integer.
    pub fn u64(value: u64) -> JsonValue {
        Self::of(|out| write_u64(out, value))
    }

    /// A 128-bit integer: a number when it fits 64 bits, else its decimal text.
    pub fn i128(value: i128) -> JsonValue {
        Self::of(|out| write_i128(out, value))
    }

    /// An unsigned 128-bit integer, as [`i128`](Self::i128).
    pub fn u128(value: u128) -> JsonValue {
        Self::of(|out| write_u128(out, value))
    }

    /// A float: a number, or the text of one JSON cannot hold (NaN, infinities).
    pub fn f64(value: f64) -> JsonValue {
        Self::of(|out| write_f64(out, value))
    }

    /// The value's JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Writes `s` as a JSON string, byte for byte as serde_json writes it: a
/// string with nothing to escape (most keys and messages) is copied whole,
/// the others go through serde_json. For transports that write a JSON body
/// straight from records.
///
/// ```
/// let mut out = Vec::new();
/// timber_core::record::write_json_str(&mut out, "plain");
/// timber_core::record::write_json_str(&mut out, "a \"quote\"\n");
/// assert_eq!(out, br#""plain""a \"quote\"\n""#);
/// ```
pub fn write_json_str(out: &mut Vec<u8>, s: &str) {
    // serde_json escapes exactly these: the quote, the backslash and controls.
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // Cannot fail: a string, into memory.
        let _ = serde_json::to_writer(out, s);
    }
}

pub(crate) use write_json_str as write_str;

/// A `Display` value as a JSON string, escaped as it is formatted.
pub(crate) fn write_display(out: &mut Vec<u8>, value: &dyn fmt::Display) {
    let _ = serde_json::Serializer::new(out).collect_str(value);
}

/// A `Debug` value as a JSON string, escaped as it is formatted.
pub(crate) fn write_debug(out: &mut Vec<u8>, value: &dyn fmt::Debug) {
    write_display(out, &format_args!("{value:?}"));
}

pub(crate) fn write_bool(out: &mut Vec<u8>, v: bool) {
    out.extend_from_slice(if v { b"true" } else { b"false" });
}

pub(crate) fn write_i64(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

pub(crate) fn write_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

pub(crate) fn write_f64(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        let _ = serde_json::to_writer(&mut *out, &v);
    } else {
        write_display(out, &v);
    }
}

pub(crate) fn write_i128(out: &mut Vec<u8>, v: i128) {
    if let Ok(v) = i64::try_from(v) {
        write_i64(out, v);
    } else if let Ok(v) = u64::try_from(v) {
        write_u64(out, v);
    } else {
        write_display(out, &v);
    }
}

pub(crate) fn write_u128(out: &mut Vec<u8>, v: u128) {
    match i128::try_from(v) {
        Ok(v) => write_i128(out, v),
        Err(_) => write_display(out, &v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_as_serde_json_does_whatever_way_they_come() {
        for s in [
            "plain",
            "quote \" \\",
            "lines\n\r\t",
            "\u{0}\u{1f}",
            "ünï ✓",
            "",
        ] {
            let expected = serde_json::to_string(s).unwrap();
            assert_eq!(JsonValue::str(s).as_str(), expected);
            assert_eq!(JsonValue::display(&s).as_str(), expected);
        }
        assert_eq!(JsonValue::debug(&"a\"b").as_str(), r#""\"a\\\"b\"""#);
    }

    proptest::proptest! {
        /// Byte for byte what serde_json writes, for any string.
        #[test]
        fn a_json_string_is_serde_json_s(s in "(?s).{0,40}|[a-z\"\\\\\u{0}-\u{1f}\u{7f} ]{0,20}") {
            let mut out = Vec::new();
            write_json_str(&mut out, &s);
            proptest::prop_assert_eq!(out, serde_json::to_vec(&s).unwrap());
        }
    }

    #[test]
    fn numbers_are_numbers_when_json_holds_them() {
        assert_eq!(JsonValue::f64(0.5).as_str(), "0.5");
        assert_eq!(JsonValue::f64(f64::INFINITY).as_str(), r#""inf""#);
        assert_eq!(JsonValue::i128(-5).as_str(), "-5");
        assert_eq!(
            JsonValue::u128(u64::MAX as u128).as_str(),
            u64::MAX.to_string()
        );
        assert_eq!(
            JsonValue::u128(u128::MAX).as_str(),
            format!("\"{}\"", u128::MAX)
        );
        assert_eq!(JsonValue::bool(false).as_str(), "false");
    }
}
