//! `jsonl`: one JSON object per line. Blank lines and a trailing newline are
//! accepted; a bad line is reported with its line number.
//!
//! ```
//! use timber_format::jsonl;
//! let body = "{\"level\":\"info\",\"message\":\"a\"}\n\n{\"level\":\"error\",\"message\":\"b\"}\n";
//! assert_eq!(jsonl::parse(body)?.len(), 2);
//! let err = jsonl::parse("{\"level\":\"info\",\"message\":\"a\"}\n[1]\n").unwrap_err();
//! assert_eq!(err.line, 2);
//! # Ok::<(), timber_format::FormatError>(())
//! ```

use std::io;

use timber_core::LogRecord;

use crate::error::FormatError;
use crate::json;
use crate::protocol::Format;

/// Writes one JSON object per record, each followed by `\n`.
pub fn write<W: io::Write>(records: &[LogRecord], writer: &mut W) -> io::Result<()> {
    for record in records {
        serde_json::to_writer(&mut *writer, record).map_err(io::Error::from)?;
        writer.write_all(b"\n")?;
    }
    Ok(())
}

/// Reads one record per non-blank line (`\n` or `\r\n` endings).
pub fn parse(input: &str) -> Result<Vec<LogRecord>, FormatError> {
    let mut records = Vec::with_capacity(input.len() / 200 + 1);
    for (index, line) in input.split('\n').enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut de = serde_json::Deserializer::from_str(line);
        let record = json::record(&mut de)
            .and_then(|r| de.end().map(|()| r))
            .map_err(|e| FormatError::from_json(Format::Jsonl, &e, index))?;
        records.push(record);
    }
    Ok(records)
}
