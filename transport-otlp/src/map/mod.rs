//! The mapping between the SDK's records and OTLP log records: records to
//! an export request ([`to_otlp`]), an export request back to wire records
//! ([`from_otlp`]), and JSON values to OTLP values and back ([`values`]).

pub(crate) mod flat;
pub(crate) mod from_otlp;
pub(crate) mod json;
pub(crate) mod proto_values;
pub(crate) mod protobuf;
pub(crate) mod to_otlp;
pub(crate) mod values;

use opentelemetry_proto::tonic::logs::v1::SeverityNumber;
use timber_core::{Level, Record};

/// The attribute names the mapping uses, on the resource and on each log
/// record (OpenTelemetry semantic conventions where one fits, `timber.*`
/// otherwise).
pub mod attributes {
    /// Resource: the record's `source`.
    pub const SERVICE_NAME: &str = "service.name";
    /// Resource: the record's `environment`.
    pub const DEPLOYMENT_ENVIRONMENT: &str = "deployment.environment.name";
    /// Resource: the record's `version`.
    pub const SERVICE_VERSION: &str = "service.version";
    /// `userId`.
    pub const USER_ID: &str = "enduser.id";
    /// `sessionId`.
    pub const SESSION_ID: &str = "session.id";
    /// `requestId`.
    pub const REQUEST_ID: &str = "timber.request_id";
    /// `dataset`.
    pub const DATASET: &str = "timber.dataset";
    /// `tags`, an array of strings.
    pub const TAGS: &str = "timber.tags";
    /// `flowId` (the log record's trace id is derived from it too).
    pub const FLOW_ID: &str = "timber.flow.id";
    /// `stepIndex`, an integer.
    pub const FLOW_STEP: &str = "timber.flow.step";
    /// `errorName`.
    pub const EXCEPTION_TYPE: &str = "exception.type";
    /// `errorStack`.
    pub const EXCEPTION_STACKTRACE: &str = "exception.stacktrace";
    /// `data.message` of a record with `errorName` or `errorStack` (the
    /// error's own message, where the client puts it).
    pub const EXCEPTION_MESSAGE: &str = "exception.message";
    /// `ipAddress`.
    pub const CLIENT_ADDRESS: &str = "client.address";
    /// `country`.
    pub const COUNTRY: &str = "geo.country.iso_code";
    /// `timestamp` in milliseconds, only when it cannot be a
    /// `time_unix_nano` (zero, before 1970, or after 2554).
    pub const TIMESTAMP_MS: &str = "timber.timestamp_ms";
    /// The prefix of a `data` key that is one of the names above or starts
    /// with `timber.`: `data.{"session.id": 1}` goes as
    /// `timber.data.session.id`, so that no data key poses as a field.
    pub const DATA_PREFIX: &str = "timber.data.";

    /// The names of record attributes that carry fields.
    pub(crate) const FIELDS: &[&str] = &[
        USER_ID,
        SESSION_ID,
        REQUEST_ID,
        DATASET,
        TAGS,
        FLOW_ID,
        FLOW_STEP,
        EXCEPTION_TYPE,
        EXCEPTION_STACKTRACE,
        EXCEPTION_MESSAGE,
        CLIENT_ADDRESS,
        COUNTRY,
        TIMESTAMP_MS,
    ];
}

/// The instrumentation scope of every record this crate sends.
pub const SCOPE_NAME: &str = "timber-rs";

/// The trace id of a flow's records that belong to no other trace (the
/// core's derivation: the same in every process and version).
///
/// ```
/// use timber_transport_otlp::flow_trace_id;
/// assert_eq!(flow_trace_id("checkout-a1b2c3d4"), flow_trace_id("checkout-a1b2c3d4"));
/// assert_ne!(flow_trace_id("checkout-a1b2c3d4"), flow_trace_id("checkout-a1b2c3d5"));
/// ```
pub use timber_core::record::flow_trace_id;

/// A record's string fields as attributes, in the mapping's order (those
/// it has: each is `None` or its value).
pub(crate) fn string_attributes(r: &Record) -> [(&'static str, Option<&str>); 9] {
    [
        (attributes::USER_ID, r.user_id()),
        (attributes::SESSION_ID, r.session_id()),
        (attributes::REQUEST_ID, r.request_id()),
        (attributes::DATASET, r.dataset()),
        (attributes::FLOW_ID, r.flow_id()),
        (attributes::EXCEPTION_TYPE, r.error_name()),
        (attributes::EXCEPTION_STACKTRACE, r.error_stack()),
        (attributes::CLIENT_ADDRESS, r.ip_address()),
        (attributes::COUNTRY, r.country()),
    ]
}

/// A record's `trace_id`, `span_id` and `flags` in OTLP: its trace
/// context's; for a flow's record of no other trace, the trace its flow id
/// hashes to (no span); else none.
pub(crate) fn trace_fields(record: &Record) -> (Option<[u8; 16]>, Option<[u8; 8]>, u32) {
    match record.trace_context() {
        Some(trace) => (
            Some(trace.trace_id()),
            Some(trace.span_id()),
            u32::from(trace.flags()),
        ),
        None => (record.flow_id().map(flow_trace_id), None, 0),
    }
}

/// The severity number and text of a level (the first of each OTLP range:
/// DEBUG 5, INFO 9, WARN 13, ERROR 17).
pub fn severity(level: Level) -> (SeverityNumber, &'static str) {
    match level {
        Level::Debug => (SeverityNumber::Debug, "DEBUG"),
        Level::Info => (SeverityNumber::Info, "INFO"),
        Level::Warn => (SeverityNumber::Warn, "WARN"),
        Level::Error => (SeverityNumber::Error, "ERROR"),
    }
}

/// The level of a severity: its number's range (TRACE counts as debug,
/// FATAL as error), or, when unspecified, its text; info when neither says.
pub fn level_of(severity_number: i32, severity_text: &str) -> Level {
    match severity_number {
        1..=8 => Level::Debug,
        9..=12 => Level::Info,
        13..=16 => Level::Warn,
        17.. => Level::Error,
        _ => severity_text.parse().unwrap_or(Level::Info),
    }
}
