//! The one error type of every parser.

use std::fmt;

use crate::protocol::Format;

/// A body that is malformed for its format, with the position of the fault.
///
/// `line` and `column` are 1-based. The column counts characters within the
/// line, except for CSV, where it is the 1-based field number (the CSV grammar
/// reports fields, not characters).
///
/// ```
/// use timber_format::{parse, Format};
/// let err = parse("{\"level\":\"info\",\"message\":\"ok\"}\n{oops}\n", Format::Jsonl).unwrap_err();
/// assert_eq!((err.format, err.line, err.column), (Format::Jsonl, 2, 2));
/// assert!(err.to_string().starts_with("invalid jsonl at line 2, column 2: "));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FormatError {
    /// The format being read.
    pub format: Format,
    /// 1-based line of the fault.
    pub line: usize,
    /// 1-based column of the fault (the field number for CSV).
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl FormatError {
    /// An error at a position.
    pub fn new(format: Format, line: usize, column: usize, message: impl Into<String>) -> Self {
        FormatError {
            format,
            line,
            column,
            message: message.into(),
        }
    }

    /// Converts a `serde_json` error, shifting its position by `line_offset`
    /// lines (for a JSON value that starts on a later line of the body).
    pub(crate) fn from_json(format: Format, err: &serde_json::Error, line_offset: usize) -> Self {
        let mut message = err.to_string();
        // serde_json appends " at line L column C"; we carry the position in fields.
        if let Some(at) = message.rfind(" at line ") {
            message.truncate(at);
        }
        FormatError::new(
            format,
            err.line().max(1) + line_offset,
            err.column().max(1),
            message,
        )
    }
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid {} at line {}, column {}: {}",
            self.format, self.line, self.column, self.message
        )
    }
}

impl std::error::Error for FormatError {}

/// The 1-based character column of byte offset `at` in `line`.
pub(crate) fn column_of(line: &str, at: usize) -> usize {
    let at = at.min(line.len());
    // Count characters up to the nearest char boundary at or before `at`.
    let mut end = at;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    line[..end].chars().count() + 1
}
