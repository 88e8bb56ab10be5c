//! JSON text written straight into a record's data buffer by the bridges,
//! without building `serde_json::Value`s.

use std::fmt;

/// Escapes `s` as the inside of a JSON string.
pub(crate) fn escape_into(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 0xf) as usize]);
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(escape);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// A JSON string.
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    escape_into(out, s);
    out.push(b'"');
}

/// Formats a value as a JSON string, escaping as it goes (no temporary).
pub(crate) fn write_debug(out: &mut Vec<u8>, value: &dyn fmt::Debug) {
    out.push(b'"');
    let _ = fmt::write(&mut Escaping(out), format_args!("{value:?}"));
    out.push(b'"');
}

/// Like [`write_debug`], for `Display`.
pub(crate) fn write_display(out: &mut Vec<u8>, value: &dyn fmt::Display) {
    out.push(b'"');
    let _ = fmt::write(&mut Escaping(out), format_args!("{value}"));
    out.push(b'"');
}

struct Escaping<'a>(&'a mut Vec<u8>);

impl fmt::Write for Escaping<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        escape_into(self.0, s);
        Ok(())
    }
}

pub(crate) fn write_i64(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

pub(crate) fn write_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// A JSON number, or the text of a float JSON cannot hold (NaN, infinities).
pub(crate) fn write_f64(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        let _ = serde_json::to_writer(&mut *out, &v);
    } else {
        write_str(out, &v.to_string());
    }
}

/// A JSON number when it fits 64 bits, else its decimal text (JSON readers
/// commonly lose precision beyond that).
pub(crate) fn write_i128(out: &mut Vec<u8>, v: i128) {
    if let Ok(v) = i64::try_from(v) {
        write_i64(out, v);
    } else if let Ok(v) = u64::try_from(v) {
        write_u64(out, v);
    } else {
        write_str(out, &v.to_string());
    }
}

pub(crate) fn write_u128(out: &mut Vec<u8>, v: u128) {
    match i128::try_from(v) {
        Ok(v) => write_i128(out, v),
        Err(_) => write_str(out, &v.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_as_serde_json_does() {
        for s in [
            "plain",
            "quote \" and \\ backslash",
            "lines\n\r\t",
            "\u{0}\u{1f}\u{8}\u{c}",
            "ünïcødé ✓",
            "",
        ] {
            let mut out = Vec::new();
            write_str(&mut out, s);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(s).unwrap()
            );
        }
        let mut out = Vec::new();
        write_debug(&mut out, &"a\"b");
        assert_eq!(out, br#""\"a\\\"b\"""#);
    }

    #[test]
    fn numbers() {
        let mut out = Vec::new();
        write_f64(&mut out, 0.5);
        out.push(b',');
        write_f64(&mut out, f64::NAN);
        out.push(b',');
        write_i128(&mut out, i128::MAX);
        out.push(b',');
        write_u128(&mut out, u64::MAX as u128);
        out.push(b',');
        write_i128(&mut out, -5);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("0.5,\"NaN\",\"{}\",{},-5", i128::MAX, u64::MAX)
        );
    }
}
