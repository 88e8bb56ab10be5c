//! `csv`: RFC 4180 with a header row (quotes, embedded commas, quotes and
//! newlines are the `csv` crate's grammar).
//!
//! Writing emits `level,message` and then only the fields some record uses,
//! under their wire names; `timestamp` is RFC 3339, `tags` are joined with
//! `;`, `data` is a JSON object.
//!
//! Reading maps header names to fields case- and punctuation-insensitively
//! (`userId`, `user_id` and `User ID` are the same column; `msg`, `severity`,
//! `time` and `date` are aliases), puts unknown columns into `data` (as
//! strings, empty cells skipped), accepts a UTF-8 BOM and a `;`- or
//! tab-separated export (guessed from the header), and reads an empty cell as
//! an absent field. `timestamp` may be Unix milliseconds or a date-time such
//! as `2024-01-15 10:30:00`. Error columns are 1-based field numbers.
//!
//! ```
//! use timber_format::csv;
//! use timber_core::Level;
//! let body = "\u{feff}Level;Message;Host\r\nwarn;\"disk; 91%\";db1\r\n";
//! let records = csv::parse(body)?;
//! assert_eq!(records[0].level, Level::Warn);
//! assert_eq!(records[0].message, "disk; 91%");
//! assert_eq!(records[0].data.as_ref().unwrap()["Host"], "db1");
//! # Ok::<(), timber_format::FormatError>(())
//! ```

use std::io;
use std::sync::Arc;

use serde_json::{Map, Value};
use timber_core::{Environment, Level, LogRecord};

use crate::error::FormatError;
use crate::names::level_from_name;
use crate::protocol::Format;
use crate::{json, timestamp};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Column {
    Level,
    Message,
    Timestamp,
    Source,
    Environment,
    Version,
    UserId,
    SessionId,
    RequestId,
    FlowId,
    StepIndex,
    Dataset,
    Tags,
    ErrorName,
    ErrorStack,
    IpAddress,
    Country,
    Data,
}

/// Every column in writing order, with its header name.
const COLUMNS: [(Column, &str); 18] = [
    (Column::Level, "level"),
    (Column::Message, "message"),
    (Column::Timestamp, "timestamp"),
    (Column::Source, "source"),
    (Column::Environment, "environment"),
    (Column::Version, "version"),
    (Column::UserId, "userId"),
    (Column::SessionId, "sessionId"),
    (Column::RequestId, "requestId"),
    (Column::FlowId, "flowId"),
    (Column::StepIndex, "stepIndex"),
    (Column::Dataset, "dataset"),
    (Column::Tags, "tags"),
    (Column::ErrorName, "errorName"),
    (Column::ErrorStack, "errorStack"),
    (Column::IpAddress, "ipAddress"),
    (Column::Country, "country"),
    (Column::Data, "data"),
];

impl Column {
    /// Whether `r` has a value for this column.
    fn used_by(self, r: &LogRecord) -> bool {
        match self {
            Column::Level | Column::Message => true, // always written
            Column::Timestamp => r.timestamp.is_some(),
            Column::Source => r.source.is_some(),
            Column::Environment => r.environment.is_some(),
            Column::Version => r.version.is_some(),
            Column::UserId => r.user_id.is_some(),
            Column::SessionId => r.session_id.is_some(),
            Column::RequestId => r.request_id.is_some(),
            Column::FlowId => r.flow_id.is_some(),
            Column::StepIndex => r.step_index.is_some(),
            Column::Dataset => r.dataset.is_some(),
            Column::Tags => !r.tags.is_empty(),
            Column::ErrorName => r.error_name.is_some(),
            Column::ErrorStack => r.error_stack.is_some(),
            Column::IpAddress => r.ip_address.is_some(),
            Column::Country => r.country.is_some(),
            Column::Data => r.data.is_some(),
        }
    }

    /// The cell of `r` in this column.
    fn cell(self, r: &LogRecord) -> String {
        fn s<T: AsRef<str>>(v: &Option<T>) -> String {
            v.as_ref()
                .map(|v| v.as_ref().to_owned())
                .unwrap_or_default()
        }
        match self {
            Column::Level => r.level.as_str().to_owned(),
            Column::Message => r.message.clone(),
            Column::Timestamp => match r.timestamp {
                // Out-of-range instants fall back to milliseconds, which read back.
                Some(ms) => timestamp::format_millis(ms).unwrap_or_else(|| ms.to_string()),
                None => String::new(),
            },
            Column::Source => s(&r.source),
            Column::Environment => r
                .environment
                .map(|e| e.as_str().to_owned())
                .unwrap_or_default(),
            Column::Version => s(&r.version),
            Column::UserId => s(&r.user_id),
            Column::SessionId => s(&r.session_id),
            Column::RequestId => s(&r.request_id),
            Column::FlowId => s(&r.flow_id),
            Column::StepIndex => r.step_index.map(|i| i.to_string()).unwrap_or_default(),
            Column::Dataset => s(&r.dataset),
            Column::Tags => r.tags.join(";"),
            Column::ErrorName => s(&r.error_name),
            Column::ErrorStack => s(&r.error_stack),
            Column::IpAddress => s(&r.ip_address),
            Column::Country => s(&r.country),
            Column::Data => r
                .data
                .as_ref()
                .map(|d| Value::Object(d.clone()).to_string())
                .unwrap_or_default(),
        }
    }

    /// The column a header name means, if any.
    fn from_header(name: &str) -> Option<Column> {
        let key: String = name
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        Some(match key.as_str() {
            "level" | "severity" | "loglevel" => Column::Level,
            "message" | "msg" => Column::Message,
            "timestamp" | "time" | "date" | "datetime" => Column::Timestamp,
            "source" => Column::Source,
            "environment" | "env" => Column::Environment,
            "version" => Column::Version,
            "userid" => Column::UserId,
            "sessionid" => Column::SessionId,
            "requestid" => Column::RequestId,
            "flowid" => Column::FlowId,
            "stepindex" => Column::StepIndex,
            "dataset" => Column::Dataset,
            "tags" => Column::Tags,
            "errorname" => Column::ErrorName,
            "errorstack" => Column::ErrorStack,
            "ipaddress" | "ip" => Column::IpAddress,
            "country" => Column::Country,
            "data" => Column::Data,
            _ => return None,
        })
    }
}

/// Writes a header row of the used columns, then one row per record.
pub fn write<W: io::Write>(records: &[LogRecord], writer: &mut W) -> io::Result<()> {
    let columns: Vec<(Column, &str)> = COLUMNS
        .iter()
        .copied()
        .filter(|(c, _)| {
            matches!(c, Column::Level | Column::Message) || records.iter().any(|r| c.used_by(r))
        })
        .collect();
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(writer);
    out.write_record(columns.iter().map(|(_, name)| name))?;
    for record in records {
        out.write_record(columns.iter().map(|(c, _)| c.cell(record)))?;
    }
    out.flush()
}

/// Reads a header row and data rows.
pub fn parse(input: &str) -> Result<Vec<LogRecord>, FormatError> {
    let input = input.strip_prefix('\u{feff}').unwrap_or(input);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(guess_delimiter(input))
        .from_reader(input.as_bytes());
    let mut rows = reader.records();
    let header = match rows.next() {
        None => return Ok(Vec::new()),
        Some(row) => row.map_err(|e| csv_error(&e))?,
    };
    let columns: Vec<Result<Column, String>> = header
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let name = name.trim();
            Column::from_header(name).ok_or_else(|| {
                if name.is_empty() {
                    format!("column {}", i + 1)
                } else {
                    name.to_owned()
                }
            })
        })
        .collect();
    if !columns.contains(&Ok(Column::Message)) {
        return Err(FormatError::new(
            Format::Csv,
            1,
            1,
            "the header row has no `message` column",
        ));
    }
    let mut records = Vec::new();
    for row in rows {
        let row = row.map_err(|e| csv_error(&e))?;
        let line = row.position().map_or(0, |p| p.line() as usize);
        let mut record = LogRecord::default();
        for (i, cell) in row.iter().enumerate() {
            let fail = |msg: String| FormatError::new(Format::Csv, line, i + 1, msg);
            match columns.get(i) {
                Some(Ok(column)) => set(&mut record, *column, cell).map_err(fail)?,
                Some(Err(name)) if !cell.is_empty() => {
                    record
                        .data
                        .get_or_insert_with(Map::new)
                        .entry(name.clone())
                        .or_insert_with(|| Value::String(cell.to_owned()));
                }
                Some(Err(_)) => {}
                None if cell.trim().is_empty() => {}
                None => return Err(fail("the row has more fields than the header".into())),
            }
        }
        records.push(record);
    }
    Ok(records)
}

/// Sets one field from its cell; an empty cell leaves the field absent.
fn set(r: &mut LogRecord, column: Column, cell: &str) -> Result<(), String> {
    let text = || (!cell.is_empty()).then(|| cell.to_owned());
    let shared = || (!cell.is_empty()).then(|| Arc::from(cell));
    match column {
        Column::Message => r.message = cell.to_owned(),
        Column::Level => {
            r.level = match cell.trim() {
                "" => Level::Info,
                name => level_from_name(name).ok_or_else(|| format!("unknown level {name:?}"))?,
            }
        }
        Column::Timestamp if cell.trim().is_empty() => {}
        Column::Timestamp => {
            let ms = json::parse_timestamp_str(cell)
                .ok_or_else(|| format!("invalid timestamp {cell:?}"))?;
            r.timestamp = Some(ms);
        }
        Column::Source => r.source = shared(),
        Column::Environment if cell.trim().is_empty() => {}
        Column::Environment => {
            r.environment = Some(
                cell.trim()
                    .parse::<Environment>()
                    .map_err(|e| e.to_string())?,
            )
        }
        Column::Version => r.version = shared(),
        Column::UserId => r.user_id = shared(),
        Column::SessionId => r.session_id = shared(),
        Column::RequestId => r.request_id = text(),
        Column::FlowId => r.flow_id = shared(),
        Column::StepIndex if cell.trim().is_empty() => {}
        Column::StepIndex => {
            r.step_index = Some(
                cell.trim()
                    .parse()
                    .map_err(|_| format!("invalid stepIndex {cell:?}"))?,
            )
        }
        Column::Dataset => r.dataset = shared(),
        Column::Tags => {
            r.tags = cell
                .split(';')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect()
        }
        Column::ErrorName => r.error_name = text(),
        Column::ErrorStack => r.error_stack = text(),
        Column::IpAddress => r.ip_address = text(),
        Column::Country => r.country = text(),
        Column::Data if cell.trim().is_empty() => {}
        Column::Data => {
            let data: Map<String, Value> = serde_json::from_str(cell)
                .map_err(|e| format!("the data cell is not a JSON object: {e}"))?;
            // Unknown columns may already be in `data`; explicit data wins.
            let merged = r.data.get_or_insert_with(Map::new);
            for (k, v) in data {
                merged.insert(k, v);
            }
        }
    }
    Ok(())
}

/// `,` unless the header line has none and has `;` or tabs (spreadsheet
/// exports in some locales).
fn guess_delimiter(input: &str) -> u8 {
    let header = input.split('\n').next().unwrap_or("");
    if header.contains(',') {
        b','
    } else if header.contains(';') {
        b';'
    } else if header.contains('\t') {
        b'\t'
    } else {
        b','
    }
}

fn csv_error(e: &csv::Error) -> FormatError {
    let line = e.position().map_or(1, |p| p.line() as usize);
    FormatError::new(Format::Csv, line, 1, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_fields() {
        let err = parse("level,message,stepIndex\ninfo,ok,1\ninfo,\"a\nb\",x\n").unwrap_err();
        assert_eq!((err.line, err.column), (3, 3), "{err}");
        let err = parse("level,msg\ninfo,a,b\n").unwrap_err();
        assert_eq!((err.line, err.column), (2, 3));
        assert!(parse("level\ninfo\n").is_err());
        let r = parse("message,tags,User ID\nhi, a ;b;,u1\n").unwrap();
        assert_eq!(r[0].tags, ["a", "b"]);
        assert_eq!(r[0].user_id.as_deref(), Some("u1"));
    }
}
