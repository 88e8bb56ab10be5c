//! A record's `data`: a JSON object rendered to text once, where the record
//! is made, and copied as it is into whatever a transport writes.

use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value};
use smallvec::SmallVec;

use crate::record::buffers;
use crate::record::limits;

/// Room for a typical record's data inline in its queue slot: the caller
/// then allocates nothing and the worker frees nothing.
const INLINE: usize = 48;

/// A record's structured data: the text of one JSON object, rendered when
/// the record was made.
///
/// Transports copy [`as_str`](Self::as_str) into their body (the Timberlogs
/// JSON) or read it once into their own values (OTLP attributes); hooks read
/// it with [`to_map`](Self::to_map) and replace it with [`Data::new`].
///
/// ```
/// use serde_json::json;
/// use timber_core::Data;
///
/// let data = Data::new(json!({"port": 8080, "tls": true}))?.unwrap();
/// assert_eq!(data.as_str(), r#"{"port":8080,"tls":true}"#);
/// assert_eq!(data.to_map()["port"], 8080);
/// assert!(Data::new(())?.is_none(), "no data");
/// assert!(Data::new([1, 2]).is_err(), "not an object");
/// # Ok::<(), timber_core::record::DataError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Data {
    json: SmallVec<[u8; INLINE]>,
    /// The nesting depth, when over the protocol's limit (0 when within it):
    /// found while rendering, reported when the record is validated.
    too_deep: u32,
    /// Rendered through the client's redaction.
    redacted: bool,
}

/// Why a value cannot be a record's data: it is not a JSON object, or it
/// does not serialize.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataError(String);

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DataError {}

impl Data {
    /// Renders `value` as data: `None` when it serializes to `null` (no
    /// data), an error when it is not a JSON object.
    pub fn new(value: impl Serialize) -> Result<Option<Data>, DataError> {
        Self::render(|out| serde_json::to_writer(out, &value), false)
    }

    /// The data of a JSON object.
    pub fn from_map(map: &Map<String, Value>) -> Data {
        match Self::new(map) {
            Ok(Some(data)) => data,
            // A map always serializes to an object.
            _ => Data::empty(),
        }
    }

    /// The object's JSON text.
    pub fn as_str(&self) -> &str {
        // Only serde_json and the record's own writers fill it: always UTF-8.
        std::str::from_utf8(&self.json).unwrap_or("{}")
    }

    /// The object's JSON text, as bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.json
    }

    /// The object, parsed.
    pub fn to_map(&self) -> Map<String, Value> {
        serde_json::from_slice(&self.json).unwrap_or_default()
    }

    /// The length of the text in bytes.
    pub fn len(&self) -> usize {
        self.json.len()
    }

    /// Whether the object has no member.
    pub fn is_empty(&self) -> bool {
        self.json.len() <= 2
    }

    fn empty() -> Data {
        Data {
            json: SmallVec::from_slice(b"{}"),
            too_deep: 0,
            redacted: false,
        }
    }

    /// Renders data with `write` (serde_json, through redaction or not)
    /// into a recycled buffer; `null` is no data, anything but an object
    /// an error. Text that fits stays inline and the buffer is kept for
    /// the thread's next call.
    pub(crate) fn render(
        write: impl FnOnce(&mut Vec<u8>) -> serde_json::Result<()>,
        redacted: bool,
    ) -> Result<Option<Data>, DataError> {
        let mut buf = buffers::take();
        if let Err(e) = write(&mut buf) {
            buffers::keep(buf);
            return Err(DataError(e.to_string()));
        }
        let kind = match buf.first().copied().unwrap_or(b'n') {
            b'{' => None,
            b'n' => {
                buffers::keep(buf);
                return Ok(None);
            }
            b'"' => Some("a string"),
            b'[' => Some("an array"),
            b't' | b'f' => Some("a boolean"),
            _ => Some("a number"),
        };
        if let Some(kind) = kind {
            buffers::keep(buf);
            return Err(DataError(format!("data must be a JSON object, got {kind}")));
        }
        Ok(Some(Self::from_buffer(buf, redacted)))
    }

    /// Data of an object's text that this crate wrote (valid JSON).
    pub(crate) fn from_buffer(buf: Vec<u8>, redacted: bool) -> Data {
        let too_deep = excess_depth(&buf).map_or(0, |d| d as u32);
        let json = if buf.len() <= INLINE {
            let inline = SmallVec::from_slice(&buf);
            buffers::keep(buf);
            inline
        } else {
            SmallVec::from_vec(buf)
        };
        Data {
            json,
            too_deep,
            redacted,
        }
    }

    /// Whether it was rendered through the client's redaction.
    pub(crate) fn is_redacted(&self) -> bool {
        self.redacted
    }

    /// The nesting depth, when deeper than the protocol allows.
    pub(crate) fn excess_depth(&self) -> Option<usize> {
        (self.too_deep > 0).then_some(self.too_deep as usize)
    }

    /// Its buffer, when it is worth recycling (it outgrew the inline room).
    pub(crate) fn into_spare(self) -> Option<Vec<u8>> {
        (self.json.spilled() && self.json.capacity() <= buffers::KEEP_CAPACITY)
            .then(|| self.json.into_vec())
    }
}

impl fmt::Debug for Data {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
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
    fn objects_are_data_null_is_none_the_rest_refused() {
        let data = Data::new(json!({"k": [1]})).unwrap().unwrap();
        assert_eq!(data.as_str(), r#"{"k":[1]}"#);
        assert!(!data.is_redacted() && data.excess_depth().is_none());
        assert!(Data::new(()).unwrap().is_none());
        assert_eq!(
            Data::new(json!([1])).unwrap_err().to_string(),
            "data must be a JSON object, got an array"
        );
        assert!(Data::new("text").is_err() && Data::new(1.5).is_err());
    }

    #[test]
    fn deep_data_is_marked_for_validation() {
        let mut v = json!(1);
        for _ in 0..150 {
            v = json!([v]);
        }
        let data = Data::new(json!({ "deep": v })).unwrap().unwrap();
        assert_eq!(data.excess_depth(), Some(151));
    }

    #[test]
    fn small_data_is_inline_and_large_data_is_recycled() {
        let small = Data::new(json!({"a": 1})).unwrap().unwrap();
        assert!(small.into_spare().is_none());
        let large = Data::new(json!({"a": "x".repeat(200)})).unwrap().unwrap();
        assert!(large.into_spare().is_some());
        let huge = Data::new(json!({"a": "x".repeat(2_000)})).unwrap().unwrap();
        assert!(huge.into_spare().is_none(), "too big to keep");
    }
}
