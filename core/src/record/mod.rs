//! Record values, the bottom layer: what a caller hands over ([`LogEntry`],
//! [`LogOptions`]), the record on its way through the client ([`Record`]
//! with its [`Data`]), the protocol's wire form ([`LogRecord`]), levels,
//! environments, errors as record fields, raw formats, the trace a record
//! belongs to ([`TraceContext`]), and every limit of the protocol
//! ([`validate`]).
//!
//! Nothing here knows of clients, queues or transports.

pub(crate) mod backtrace;
pub(crate) mod buffers;
pub(crate) mod data;
pub(crate) mod details;
pub(crate) mod entry;
pub(crate) mod environment;
pub(crate) mod error_payload;
pub(crate) mod flow_id;
pub(crate) mod json;
pub(crate) mod level;
pub mod limits;
pub(crate) mod log_record;
pub(crate) mod raw;
#[allow(clippy::module_inception)]
pub(crate) mod record;
pub(crate) mod trace_context;
pub(crate) mod validate;

pub use backtrace::BacktraceMode;
pub use data::{Data, DataError};
pub use entry::{LogEntry, LogOptions};
pub use environment::Environment;
pub use error_payload::ErrorPayload;
pub use flow_id::flow_trace_id;
pub use json::{write_json_str, JsonValue};
pub use level::{Level, UnknownName};
pub use log_record::LogRecord;
pub use raw::{IngestRawOptions, RawFormat};
pub use record::Record;
pub use trace_context::{
    TraceContext, TraceparentError, SPAN_ID_KEY, TRACE_FLAGS_KEY, TRACE_ID_KEY,
};
pub use validate::{validate, validate_record, ValidationError, Violation};
