//! # timber-format
//!
//! Turns log records into each raw format of the Timberlogs ingest protocol
//! and reads each raw format back, so logs from other systems (syslog
//! daemons, CSV exports, JSONL streams, AAC apps' Open Board Logging files)
//! can be forwarded, and what you have can be exported.
//!
//! ```
//! use timber_format::{parse, serialize, Format, Record};
//! use timber_core::Level;
//!
//! let records = vec![Record {
//!     source: Some("api".into()),
//!     timestamp: Some(1_705_314_600_000),
//!     ..Record::new(Level::Error, "Connection refused")
//! }];
//! let body = serialize(&records, Format::Syslog);
//! assert_eq!(body, "<11>1 2024-01-15T10:30:00.000Z - api - - - Connection refused\n");
//! assert_eq!(parse(&body, Format::Syslog)?, records);
//!
//! let text = parse("2024-01-15 10:30:00 ERROR Connection refused", Format::Text)?;
//! assert_eq!(text[0].level, Level::Error);
//! assert_eq!(text[0].message, "Connection refused");
//! # Ok::<(), timber_format::FormatError>(())
//! ```
//!
//! ## The formats
//!
//! | format | writes | reads |
//! |---|---|---|
//! | [`json`] | a JSON array of records | an array or `{"logs":[...]}` |
//! | [`jsonl`] | one JSON object per line | the same; blank lines skipped |
//! | [`syslog`] | RFC 5424 lines | RFC 5424 and RFC 3164 (BSD) lines |
//! | [`text`] | `TIMESTAMP LEVEL message` lines | an optional leading timestamp and level, then the message |
//! | [`csv`] | RFC 4180, a header row of the used fields | RFC 4180 with a header mapped by name |
//! | [`obl`] | an `open-board-log-0.1` document | the same, with any event types |
//!
//! The JSON readers are lenient where real producers differ: a missing
//! `level` reads as `info`, level names are case-insensitive (`WARNING`,
//! `fatal`, pino's numbers), `msg`/`time` and snake_case names are accepted,
//! timestamps may be RFC 3339 strings, and unknown keys go into `data`.
//!
//! ## What each format cannot carry
//!
//! Serializing then parsing gives back the same records (the crate's proptests
//! check it), except for what a format cannot carry:
//!
//! - **json**, **jsonl**: everything.
//! - **syslog**: everything (fields without a header slot travel in the
//!   `timber@32473` structured-data element, `data` as JSON), except
//!   timestamps outside the years 0000-9999, which RFC 5424 cannot express:
//!   they are written as `-` and read back as absent.
//! - **text**: only `level`, `message` and `timestamp`. Line breaks in a
//!   message are written as the two characters `\n` / `\r` and read back so;
//!   leading spaces and tabs of a message are not kept (they read as the
//!   padding between level and message); timestamps outside 0000-9999 are
//!   dropped.
//! - **csv**: everything except empty strings in optional fields (an empty
//!   cell reads as absent) and tags containing `;` or surrounding spaces
//!   (tags are joined with `;`, and split and trimmed on reading; empty tags
//!   are dropped).
//! - **obl**: everything, but records come back grouped by session (in the
//!   order each session first appears; order within a session is kept). The
//!   session `started`/`ended` times are derived on writing and not kept on
//!   reading, nor are a document's other top-level fields (such as `locale`).
//!
//! ## Checking raw bodies before sending
//!
//! [`validator`] plugs the parsers into
//! [`ClientBuilder::raw_validator`](timber_core::ClientBuilder::raw_validator), so
//! `Client::ingest_raw` refuses a malformed body locally with its position.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod csv;
mod error;
pub mod json;
pub mod jsonl;
mod names;
pub mod obl;
mod protocol;
pub mod syslog;
pub mod text;
mod timestamp;

use std::io;
use std::sync::Arc;

pub use error::FormatError;
pub use protocol::{Format, Record};

/// Writes `records` as a body in `format`.
///
/// ```
/// use timber_format::{serialize, Format, Record};
/// use timber_core::Level;
/// let body = serialize(&[Record::new(Level::Info, "hi")], Format::Jsonl);
/// assert_eq!(body, "{\"level\":\"info\",\"message\":\"hi\"}\n");
/// ```
pub fn serialize(records: &[Record], format: Format) -> String {
    let mut out = Vec::with_capacity(64 + records.len() * 160);
    // Writing to a Vec cannot fail, and every writer produces UTF-8.
    let _ = serialize_to_writer(records, format, &mut out);
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Writes `records` in `format` to `writer`; fails only when the writer does.
///
/// ```
/// use timber_format::{serialize_to_writer, Format, Record};
/// use timber_core::Level;
/// let mut out = Vec::new();
/// serialize_to_writer(&[Record::new(Level::Warn, "disk")], Format::Text, &mut out)?;
/// assert_eq!(out, b"WARN disk\n");
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn serialize_to_writer<W: io::Write>(
    records: &[Record],
    format: Format,
    writer: &mut W,
) -> io::Result<()> {
    match format {
        Format::Json => json::write(records, writer),
        Format::Jsonl => jsonl::write(records, writer),
        Format::Syslog => syslog::write(records, writer),
        Format::Text => text::write(records, writer),
        Format::Csv => csv::write(records, writer),
        Format::Obl => obl::write(records, writer),
    }
}

/// Reads a body in `format`.
///
/// ```
/// use timber_format::{parse, Format};
/// let records = parse("level,message,source\nerror,Connection refused,api\n", Format::Csv)?;
/// assert_eq!(records[0].source.as_deref(), Some("api"));
/// let err = parse("level,message\nloud,x\n", Format::Csv).unwrap_err();
/// assert_eq!((err.line, err.column), (2, 1));
/// # Ok::<(), timber_format::FormatError>(())
/// ```
pub fn parse(input: &str, format: Format) -> Result<Vec<Record>, FormatError> {
    match format {
        Format::Json => json::parse(input),
        Format::Jsonl => jsonl::parse(input),
        Format::Syslog => syslog::parse(input),
        Format::Text => text::parse(input),
        Format::Csv => csv::parse(input),
        Format::Obl => obl::parse(input),
    }
}

/// A [`RawValidator`](timber_core::config::RawValidator) for
/// [`ClientBuilder::raw_validator`](timber_core::ClientBuilder::raw_validator):
/// it parses the body and refuses it with the fault's position and message,
/// `line L, column C: ...` (the client's error already names the format).
///
/// ```
/// use timber_core::{Client, Error, RawFormat};
/// use timber_transport_mock::MockTransport;
///
/// let client = Client::builder()
///     .source("relay")
///     .api_key("tb_test_x")
///     .transport(MockTransport::new())
///     .raw_validator(timber_format::validator())
///     .build()?;
/// let err = client.ingest_raw("{\"level\":\"info\"", RawFormat::Jsonl, None).unwrap_err();
/// assert!(matches!(err, Error::InvalidRawBody { .. }));
/// assert_eq!(err.to_string(), "invalid jsonl body: line 1, column 15: EOF while parsing an object");
/// # Ok::<(), Error>(())
/// ```
pub fn validator() -> timber_core::config::RawValidator {
    Arc::new(|format, body| check(body, format))
}

/// Whether `body` parses as `format`; the error is `line L, column C: what`.
/// [`validator`] wraps it for the client, and the `timber-sdk` facade
/// installs that validator by default.
///
/// ```
/// use timber_format::{check, Format};
/// assert!(check("level,message\ninfo,ok", Format::Csv).is_ok());
/// assert_eq!(check("[1", Format::Json).unwrap_err(), "line 1, column 2: invalid type: integer `1`, expected a log record object");
/// ```
pub fn check(body: &str, format: Format) -> Result<(), String> {
    parse(body, format)
        .map(|_| ())
        .map_err(|e| format!("line {}, column {}: {}", e.line, e.column, e.message))
}

/// The code blocks of the README, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
