//! [`DataWriter`]: a record's data written field by field, straight to
//! JSON text, with the client's redaction: what an integration uses for
//! the fields of another logging API's events.

use std::fmt;

use crate::hooks::redactor::{Redactor, REDACTED};
use crate::record::buffers;
use crate::record::data::Data;
use crate::record::json::{self, JsonValue};

/// Writes the members of a record's data one at a time (from
/// [`Client::data_writer`](crate::Client::data_writer)): a field whose name
/// the client redacts is written as `"[REDACTED]"`. Give it to
/// [`Draft::with_data`](crate::Draft::with_data).
///
/// Names are written as given: a name written twice appears twice (the
/// caller decides which field wins, as the `tracing` layer does for span
/// fields).
///
/// ```
/// # #[path = "../../tests/double/mod.rs"] mod double;
/// use timber_core::record::JsonValue;
/// # let client = timber_core::Client::builder().source("s").api_key("k")
/// #     .transport(double::MockTransport::new()).build()?;
/// let mut data = client.data_writer();
/// data.str("user", "ada")
///     .i64("tries", 3)
///     .str("password", "hunter2")
///     .value("span_field", &JsonValue::bool(true));
/// assert_eq!(
///     data.finish().unwrap().as_str(),
///     r#"{"user":"ada","tries":3,"password":"[REDACTED]","span_field":true}"#
/// );
/// # Ok::<(), timber_core::Error>(())
/// ```
pub struct DataWriter<'r> {
    out: Vec<u8>,
    members: usize,
    redactor: Option<&'r Redactor>,
}

impl fmt::Debug for DataWriter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataWriter")
            .field("members", &self.members)
            .finish_non_exhaustive()
    }
}

impl<'r> DataWriter<'r> {
    pub(crate) fn new(redactor: Option<&'r Redactor>) -> Self {
        let mut out = buffers::take();
        out.push(b'{');
        DataWriter {
            out,
            members: 0,
            redactor,
        }
    }

    /// Starts a member; false when its value was redacted (already written).
    fn key(&mut self, name: &str) -> bool {
        if self.members > 0 {
            self.out.push(b',');
        }
        self.members += 1;
        json::write_str(&mut self.out, name);
        self.out.push(b':');
        if self.redactor.is_some_and(|r| r.matches(name)) {
            json::write_str(&mut self.out, REDACTED);
            return false;
        }
        true
    }

    fn member(&mut self, name: &str, write: impl FnOnce(&mut Vec<u8>)) -> &mut Self {
        if self.key(name) {
            write(&mut self.out);
        }
        self
    }

    /// A string.
    pub fn str(&mut self, name: &str, value: &str) -> &mut Self {
        self.member(name, |out| json::write_str(out, value))
    }

    /// A value's `Display` text, as a string.
    pub fn display(&mut self, name: &str, value: &dyn fmt::Display) -> &mut Self {
        self.member(name, |out| json::write_display(out, value))
    }

    /// A value's `Debug` text, as a string.
    pub fn debug(&mut self, name: &str, value: &dyn fmt::Debug) -> &mut Self {
        self.member(name, |out| json::write_debug(out, value))
    }

    /// A boolean.
    pub fn bool(&mut self, name: &str, value: bool) -> &mut Self {
        self.member(name, |out| json::write_bool(out, value))
    }

    /// An integer.
    pub fn i64(&mut self, name: &str, value: i64) -> &mut Self {
        self.member(name, |out| json::write_i64(out, value))
    }

    /// An unsigned integer.
    pub fn u64(&mut self, name: &str, value: u64) -> &mut Self {
        self.member(name, |out| json::write_u64(out, value))
    }

    /// A 128-bit integer: a number when it fits 64 bits, else its text.
    pub fn i128(&mut self, name: &str, value: i128) -> &mut Self {
        self.member(name, |out| json::write_i128(out, value))
    }

    /// An unsigned 128-bit integer, as [`i128`](Self::i128).
    pub fn u128(&mut self, name: &str, value: u128) -> &mut Self {
        self.member(name, |out| json::write_u128(out, value))
    }

    /// A float: a number, or the text of one JSON cannot hold.
    pub fn f64(&mut self, name: &str, value: f64) -> &mut Self {
        self.member(name, |out| json::write_f64(out, value))
    }

    /// A value written earlier ([`JsonValue`]).
    pub fn value(&mut self, name: &str, value: &JsonValue) -> &mut Self {
        self.member(name, |out| out.extend_from_slice(value.as_str().as_bytes()))
    }

    /// Members written so far.
    pub fn len(&self) -> usize {
        self.members
    }

    /// Whether no member was written.
    pub fn is_empty(&self) -> bool {
        self.members == 0
    }

    /// The data written; `None` when no member was.
    pub fn finish(mut self) -> Option<Data> {
        if self.members == 0 {
            buffers::keep(std::mem::take(&mut self.out));
            return None;
        }
        self.out.push(b'}');
        Some(Data::from_buffer(
            std::mem::take(&mut self.out),
            self.redactor.is_some(),
        ))
    }
}
