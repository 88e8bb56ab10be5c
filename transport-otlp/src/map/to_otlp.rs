//! A batch as an OTLP export request, built from its typed records with
//! the official generated types (`prost` does the framing): the batch's
//! resource once, one scope, a log record each.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use std::borrow::Cow;

use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValueList,
};
use opentelemetry_proto::tonic::logs::v1::{self as otlp, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use timber_core::transport::{Batch, Resource as TimberResource};
use timber_core::Record;

use crate::map::attributes as attr;
use crate::map::json::Json;
use crate::map::values::{key_value, string};
use crate::map::{severity, string_attributes, trace_fields, SCOPE_NAME};

/// The export request of a batch: one `ResourceLogs` with the batch's
/// resource and one scope (`timber-rs`), the records in their order.
///
/// `now_nanos` is the observed time of records whose timestamp OTLP
/// cannot carry.
///
/// ```
/// use timber_core::transport::{Batch, Resource};
/// use timber_core::{Environment, Level, Record};
/// use timber_transport_otlp::export_request;
///
/// let resource = Resource::new("api", Environment::Production, None);
/// let request = export_request(&Batch::new(resource, vec![Record::new(Level::Warn, "disk")]), 0);
/// let logs = &request.resource_logs[0].scope_logs[0].log_records;
/// assert_eq!(logs[0].severity_text, "WARN");
/// assert_eq!(logs[0].severity_number, 13);
/// ```
pub fn export_request(batch: &Batch, now_nanos: u64) -> ExportLogsServiceRequest {
    export_request_with(batch, now_nanos, &[])
}

/// [`export_request`] with more resource attributes after the batch's own.
pub(crate) fn export_request_with(
    batch: &Batch,
    now_nanos: u64,
    extra: &[(String, String)],
) -> ExportLogsServiceRequest {
    let log_records = batch
        .records()
        .iter()
        .map(|record| log_record(record, now_nanos))
        .collect();
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(resource(batch.resource(), extra)),
            scope_logs: vec![ScopeLogs {
                scope: Some(InstrumentationScope {
                    name: SCOPE_NAME.to_owned(),
                    version: env!("CARGO_PKG_VERSION").to_owned(),
                    ..InstrumentationScope::default()
                }),
                log_records,
                ..ScopeLogs::default()
            }],
            ..ResourceLogs::default()
        }],
    }
}

fn resource(r: &TimberResource, extra: &[(String, String)]) -> Resource {
    let mut attributes = vec![
        string(attr::SERVICE_NAME, &r.source),
        string(attr::DEPLOYMENT_ENVIRONMENT, r.environment.as_str()),
    ];
    if let Some(version) = &r.version {
        attributes.push(string(attr::SERVICE_VERSION, version));
    }
    attributes.extend(extra.iter().map(|(key, value)| string(key, value)));
    Resource {
        attributes,
        ..Resource::default()
    }
}

/// A data key as an attribute's name: `message` of an error record (its
/// text) is `exception.message`; a key that poses as one of the mapping's
/// names (or any `timber.*`) goes as `timber.data.{key}`.
pub(crate) fn renamed(key: Cow<'_, str>, error_message: bool) -> Cow<'_, str> {
    if kept_as_is(&key, error_message) {
        key
    } else if error_message && key == "message" {
        Cow::Borrowed(attr::EXCEPTION_MESSAGE)
    } else {
        Cow::Owned(format!("{}{key}", attr::DATA_PREFIX))
    }
}

/// Whether [`renamed`] leaves a data key as it is.
pub(crate) fn kept_as_is(key: &str, error_message: bool) -> bool {
    let renamed = (error_message && key == "message")
        || key.starts_with("timber.")
        || attr::FIELDS.contains(&key);
    !renamed
}

/// A data value as an OTLP value (the same mapping as [`any_value`](crate::any_value)).
fn json_any(value: &Json<'_>) -> Option<Any> {
    Some(match value {
        Json::Null => return None,
        Json::Bool(b) => Any::BoolValue(*b),
        Json::Int(i) => Any::IntValue(*i),
        Json::Double(d) => Any::DoubleValue(*d),
        Json::Str(s) => Any::StringValue(s.to_string()),
        Json::Array(items) => Any::ArrayValue(ArrayValue {
            values: items
                .iter()
                .map(|v| AnyValue { value: json_any(v) })
                .collect(),
        }),
        Json::Object(members) => Any::KvlistValue(KeyValueList {
            values: members
                .iter()
                .map(|(k, v)| key_value(k.to_string(), json_any(v)))
                .collect(),
        }),
    })
}

/// A timestamp in milliseconds as nanoseconds since the epoch, when OTLP
/// can carry it (0 means "unknown" there).
pub(crate) fn nanos(millis: i64) -> Option<u64> {
    u64::try_from(millis)
        .ok()
        .filter(|ms| *ms > 0)
        .and_then(|ms| ms.checked_mul(1_000_000))
}

fn log_record(record: &Record, now_nanos: u64) -> otlp::LogRecord {
    let (number, text) = severity(record.level());
    let time = nanos(record.timestamp());
    let (trace_id, span_id, flags) = trace_fields(record);
    let data = record
        .data()
        .map(|d| Json::object(d.as_str()))
        .unwrap_or_default();
    let mut attributes = Vec::with_capacity(data.len() + 4);
    let error = record.error_name().is_some() || record.error_stack().is_some();
    for (key, value) in data {
        let text = matches!(value, Json::Str(_));
        attributes.push(key_value(renamed(key, error && text), json_any(&value)));
    }
    for (key, value) in string_attributes(record) {
        if let Some(value) = value {
            attributes.push(string(key, value));
        }
    }
    if let Some(step) = record.step_index() {
        attributes.push(key_value(attr::FLOW_STEP, Some(Any::IntValue(step.into()))));
    }
    if !record.tags().is_empty() {
        let tags = record
            .tags()
            .iter()
            .map(|t| AnyValue {
                value: Some(Any::StringValue(t.clone())),
            })
            .collect();
        attributes.push(key_value(
            attr::TAGS,
            Some(Any::ArrayValue(ArrayValue { values: tags })),
        ));
    }
    if time.is_none() {
        attributes.push(key_value(
            attr::TIMESTAMP_MS,
            Some(Any::IntValue(record.timestamp())),
        ));
    }
    otlp::LogRecord {
        time_unix_nano: time.unwrap_or(0),
        observed_time_unix_nano: time.unwrap_or(now_nanos),
        severity_number: number as i32,
        severity_text: text.to_owned(),
        body: Some(AnyValue {
            value: Some(Any::StringValue(record.message().to_owned())),
        }),
        attributes,
        trace_id: trace_id.map(|id| id.to_vec()).unwrap_or_default(),
        span_id: span_id.map(|id| id.to_vec()).unwrap_or_default(),
        flags,
        ..otlp::LogRecord::default()
    }
}
