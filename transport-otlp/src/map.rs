//! The mapping between the SDK's records and OTLP log records, both ways.

use std::sync::Arc;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::logs::v1::{self as otlp, ResourceLogs, ScopeLogs, SeverityNumber};
use opentelemetry_proto::tonic::resource::v1::Resource;
use serde_json::{Map, Number, Value};
use timber_core::{Environment, Level, LogRecord};

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

use attributes as attr;

/// The instrumentation scope of every record this crate sends.
pub const SCOPE_NAME: &str = "timber-rs";

/// The trace id of a flow's records: the 128-bit FNV-1a hash of the flow
/// id (never all zeros), the same in every process and version, so that a
/// backend shows a flow's records as one trace.
///
/// ```
/// use timber_transport_otlp::flow_trace_id;
/// assert_eq!(flow_trace_id("checkout-a1b2c3d4"), flow_trace_id("checkout-a1b2c3d4"));
/// assert_ne!(flow_trace_id("checkout-a1b2c3d4"), flow_trace_id("checkout-a1b2c3d5"));
/// assert_ne!(flow_trace_id(""), [0; 16]);
/// ```
pub fn flow_trace_id(flow_id: &str) -> [u8; 16] {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    let hash = flow_id
        .bytes()
        .fold(OFFSET, |h, b| (h ^ u128::from(b)).wrapping_mul(PRIME));
    if hash == 0 {
        return [1; 16];
    }
    hash.to_be_bytes()
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

/// The export request of these records: one `ResourceLogs` per run of
/// consecutive records with the same `source`, `environment` and
/// `version` (a client's records share them: one resource), each with one
/// scope (`timber-rs`), the records in their order.
///
/// `now_nanos` is the observed time of records without a timestamp.
///
/// ```
/// use timber_core::{Level, LogRecord};
/// use timber_transport_otlp::export_request;
/// let record = LogRecord { source: Some("api".into()), ..LogRecord::new(Level::Warn, "disk") };
/// let request = export_request(&[record], 0);
/// let logs = &request.resource_logs[0].scope_logs[0].log_records;
/// assert_eq!(logs[0].severity_text, "WARN");
/// assert_eq!(logs[0].severity_number, 13);
/// ```
pub fn export_request(records: &[LogRecord], now_nanos: u64) -> ExportLogsServiceRequest {
    let mut request = ExportLogsServiceRequest::default();
    let mut current: Option<ResourceKey<'_>> = None;
    for record in records {
        let key = ResourceKey::of(record);
        if current.as_ref() != Some(&key) {
            request.resource_logs.push(resource_logs(&key));
            current = Some(key);
        }
        if let Some(scope) = request
            .resource_logs
            .last_mut()
            .and_then(|r| r.scope_logs.last_mut())
        {
            scope.log_records.push(log_record(record, now_nanos));
        }
    }
    request
}

/// What distinguishes one resource from another.
#[derive(PartialEq, Eq)]
struct ResourceKey<'a> {
    source: Option<&'a str>,
    environment: Option<Environment>,
    version: Option<&'a str>,
}

impl<'a> ResourceKey<'a> {
    fn of(record: &'a LogRecord) -> Self {
        ResourceKey {
            source: record.source.as_deref(),
            environment: record.environment,
            version: record.version.as_deref(),
        }
    }
}

fn resource_logs(key: &ResourceKey<'_>) -> ResourceLogs {
    let mut attributes = Vec::with_capacity(3);
    if let Some(source) = key.source {
        attributes.push(string(attr::SERVICE_NAME, source));
    }
    if let Some(environment) = key.environment {
        attributes.push(string(attr::DEPLOYMENT_ENVIRONMENT, environment.as_str()));
    }
    if let Some(version) = key.version {
        attributes.push(string(attr::SERVICE_VERSION, version));
    }
    ResourceLogs {
        resource: Some(Resource {
            attributes,
            ..Resource::default()
        }),
        scope_logs: vec![ScopeLogs {
            scope: Some(InstrumentationScope {
                name: SCOPE_NAME.to_owned(),
                version: env!("CARGO_PKG_VERSION").to_owned(),
                ..InstrumentationScope::default()
            }),
            ..ScopeLogs::default()
        }],
        ..ResourceLogs::default()
    }
}

fn key_value(key: impl Into<String>, value: Option<Any>) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value }),
        ..KeyValue::default()
    }
}

fn string(key: &str, value: &str) -> KeyValue {
    key_value(key, Some(Any::StringValue(value.to_owned())))
}

/// A timestamp in milliseconds as nanoseconds since the epoch, when OTLP
/// can carry it (0 means "unknown" there).
fn nanos(millis: i64) -> Option<u64> {
    u64::try_from(millis)
        .ok()
        .filter(|ms| *ms > 0)
        .and_then(|ms| ms.checked_mul(1_000_000))
}

fn log_record(record: &LogRecord, now_nanos: u64) -> otlp::LogRecord {
    let (number, text) = severity(record.level);
    let time = record.timestamp.and_then(nanos);
    let mut attributes = Vec::with_capacity(
        record.data.as_ref().map_or(0, Map::len) + 4 + usize::from(!record.tags.is_empty()),
    );
    let error = record.error_name.is_some() || record.error_stack.is_some();
    if let Some(data) = &record.data {
        for (key, value) in data {
            if error && key == "message" {
                if let Value::String(message) = value {
                    attributes.push(string(attr::EXCEPTION_MESSAGE, message));
                    continue;
                }
            }
            let reserved = key.starts_with("timber.") || attr::FIELDS.contains(&key.as_str());
            let name = if reserved {
                format!("{}{key}", attr::DATA_PREFIX)
            } else {
                key.clone()
            };
            attributes.push(key_value(name, any_value(value)));
        }
    }
    let strings = [
        (attr::USER_ID, record.user_id.as_deref()),
        (attr::SESSION_ID, record.session_id.as_deref()),
        (attr::REQUEST_ID, record.request_id.as_deref()),
        (attr::DATASET, record.dataset.as_deref()),
        (attr::FLOW_ID, record.flow_id.as_deref()),
        (attr::EXCEPTION_TYPE, record.error_name.as_deref()),
        (attr::EXCEPTION_STACKTRACE, record.error_stack.as_deref()),
        (attr::CLIENT_ADDRESS, record.ip_address.as_deref()),
        (attr::COUNTRY, record.country.as_deref()),
    ];
    for (key, value) in strings {
        if let Some(value) = value {
            attributes.push(string(key, value));
        }
    }
    if let Some(step) = record.step_index {
        attributes.push(key_value(attr::FLOW_STEP, Some(Any::IntValue(step.into()))));
    }
    if !record.tags.is_empty() {
        let tags = record
            .tags
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
    if let (Some(ms), None) = (record.timestamp, time) {
        attributes.push(key_value(attr::TIMESTAMP_MS, Some(Any::IntValue(ms))));
    }
    otlp::LogRecord {
        time_unix_nano: time.unwrap_or(0),
        observed_time_unix_nano: time.unwrap_or(now_nanos),
        severity_number: number as i32,
        severity_text: text.to_owned(),
        body: Some(AnyValue {
            value: Some(Any::StringValue(record.message.clone())),
        }),
        attributes,
        trace_id: record
            .flow_id
            .as_deref()
            .map(|id| flow_trace_id(id).to_vec())
            .unwrap_or_default(),
        ..otlp::LogRecord::default()
    }
}

/// A JSON value as an OTLP `AnyValue`: objects become key-value lists,
/// arrays arrays, integers that fit an `i64` ints and other numbers
/// doubles, `null` an empty value.
///
/// ```
/// use opentelemetry_proto::tonic::common::v1::any_value::Value;
/// use timber_transport_otlp::any_value;
/// assert_eq!(any_value(&serde_json::json!(3)), Some(Value::IntValue(3)));
/// assert_eq!(any_value(&serde_json::json!(null)), None);
/// ```
pub fn any_value(value: &Value) -> Option<Any> {
    Some(match value {
        Value::Null => return None,
        Value::Bool(b) => Any::BoolValue(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Any::IntValue(i),
            None => Any::DoubleValue(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Any::StringValue(s.clone()),
        Value::Array(items) => Any::ArrayValue(ArrayValue {
            values: items
                .iter()
                .map(|v| AnyValue {
                    value: any_value(v),
                })
                .collect(),
        }),
        Value::Object(map) => Any::KvlistValue(KeyValueList {
            values: map
                .iter()
                .map(|(k, v)| key_value(k.clone(), any_value(v)))
                .collect(),
        }),
    })
}

/// An OTLP `AnyValue` as JSON, the inverse of [`any_value`] (bytes become
/// an array of numbers, a non-finite double `null`).
pub fn json_value(value: Option<&Any>) -> Value {
    match value {
        None | Some(Any::StringValueStrindex(_)) => Value::Null,
        Some(Any::BoolValue(b)) => Value::Bool(*b),
        Some(Any::IntValue(i)) => Value::Number((*i).into()),
        Some(Any::DoubleValue(d)) => Number::from_f64(*d).map_or(Value::Null, Value::Number),
        Some(Any::StringValue(s)) => Value::String(s.clone()),
        Some(Any::BytesValue(b)) => Value::Array(b.iter().map(|x| Value::from(*x)).collect()),
        Some(Any::ArrayValue(a)) => Value::Array(
            a.values
                .iter()
                .map(|v| json_value(v.value.as_ref()))
                .collect(),
        ),
        Some(Any::KvlistValue(kv)) => Value::Object(
            kv.values
                .iter()
                .map(|kv| {
                    let value = kv.value.as_ref().and_then(|v| v.value.as_ref());
                    (kv.key.clone(), json_value(value))
                })
                .collect(),
        ),
    }
}

/// The records an export request carries, mapped back (the inverse of
/// [`export_request`], for receivers and tests): whatever this crate
/// sends comes back as it was, except an empty `data` object (none) and
/// integers above `i64::MAX` in `data` (doubles). Attributes of other
/// senders become `data` keys; a severity maps to its range's level.
///
/// ```
/// use timber_core::{Level, LogRecord};
/// use timber_transport_otlp::{export_request, records_from};
/// let record = LogRecord {
///     source: Some("api".into()),
///     tags: vec!["disk".into()],
///     timestamp: Some(1_700_000_000_000),
///     ..LogRecord::new(Level::Warn, "disk almost full")
/// };
/// let request = export_request(std::slice::from_ref(&record), 0);
/// assert_eq!(records_from(&request), vec![record]);
/// ```
pub fn records_from(request: &ExportLogsServiceRequest) -> Vec<LogRecord> {
    let mut out = Vec::new();
    for resource_logs in &request.resource_logs {
        let mut source = None;
        let mut environment = None;
        let mut version = None;
        for kv in resource_logs.resource.iter().flat_map(|r| &r.attributes) {
            let text = || text_of(kv).map(Arc::<str>::from);
            match kv.key.as_str() {
                attr::SERVICE_NAME => source = text(),
                attr::DEPLOYMENT_ENVIRONMENT => {
                    environment = text_of(kv).and_then(|e| e.parse().ok())
                }
                attr::SERVICE_VERSION => version = text(),
                _ => {}
            }
        }
        for record in resource_logs.scope_logs.iter().flat_map(|s| &s.log_records) {
            out.push(LogRecord {
                source: source.clone(),
                environment,
                version: version.clone(),
                ..record_from(record)
            });
        }
    }
    out
}

fn text_of(kv: &KeyValue) -> Option<&str> {
    match kv.value.as_ref()?.value.as_ref()? {
        Any::StringValue(s) => Some(s),
        _ => None,
    }
}

fn record_from(record: &otlp::LogRecord) -> LogRecord {
    let message = match record.body.as_ref().and_then(|b| b.value.as_ref()) {
        Some(Any::StringValue(s)) => s.clone(),
        None => String::new(),
        Some(other) => json_value(Some(other)).to_string(),
    };
    let mut out = LogRecord::new(
        level_of(record.severity_number, &record.severity_text),
        message,
    );
    if record.time_unix_nano > 0 {
        out.timestamp = i64::try_from(record.time_unix_nano / 1_000_000).ok();
    }
    let mut data = Map::new();
    for kv in &record.attributes {
        let value = kv.value.as_ref().and_then(|v| v.value.as_ref());
        let text = || text_of(kv).map(str::to_owned);
        let shared = || text_of(kv).map(Arc::<str>::from);
        match kv.key.as_str() {
            attr::USER_ID => out.user_id = shared(),
            attr::SESSION_ID => out.session_id = shared(),
            attr::REQUEST_ID => out.request_id = text(),
            attr::DATASET => out.dataset = shared(),
            attr::FLOW_ID => out.flow_id = shared(),
            attr::EXCEPTION_TYPE => out.error_name = text(),
            attr::EXCEPTION_STACKTRACE => out.error_stack = text(),
            attr::CLIENT_ADDRESS => out.ip_address = text(),
            attr::COUNTRY => out.country = text(),
            attr::EXCEPTION_MESSAGE => {
                data.insert("message".to_owned(), json_value(value));
            }
            attr::FLOW_STEP => {
                if let Some(Any::IntValue(step)) = value {
                    out.step_index = u32::try_from(*step).ok();
                }
            }
            attr::TIMESTAMP_MS => {
                if let Some(Any::IntValue(ms)) = value {
                    out.timestamp = Some(*ms);
                }
            }
            attr::TAGS => {
                if let Some(Any::ArrayValue(tags)) = value {
                    out.tags = tags
                        .values
                        .iter()
                        .filter_map(|t| match t.value.as_ref() {
                            Some(Any::StringValue(s)) => Some(s.clone()),
                            _ => None,
                        })
                        .collect();
                }
            }
            key => {
                let key = key.strip_prefix(attr::DATA_PREFIX).unwrap_or(key);
                data.insert(key.to_owned(), json_value(value));
            }
        }
    }
    if !data.is_empty() {
        out.data = Some(data);
    }
    out
}
