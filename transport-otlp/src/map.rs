//! The mapping between the SDK's records and OTLP log records, both ways.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::logs::v1::{self as otlp, ResourceLogs, ScopeLogs, SeverityNumber};
use opentelemetry_proto::tonic::resource::v1::Resource;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Number, Value};
use timber_core::{Batch, Environment, Level, LogRecord};

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
    let mut request = Request::new(now_nanos, records.len());
    for record in records {
        request.push(View::of(record));
    }
    request.request
}

/// The export request of a batch, read straight from the records' JSON
/// as the batch holds them (no [`LogRecord`] is built on the way): the
/// same request as [`export_request`] of [`Batch::records`], for less
/// work. `Err` if a record is not a record's JSON (never for the
/// client's batches).
///
/// ```
/// use timber_core::{Batch, Level, LogRecord};
/// use timber_transport_otlp::{batch_request, export_request};
/// let records = [LogRecord::new(Level::Info, "a"), LogRecord::new(Level::Error, "b")];
/// let batch = Batch::new(&records);
/// assert_eq!(batch_request(&batch, 0).unwrap(), export_request(&records, 0));
/// ```
pub fn batch_request(
    batch: &Batch,
    now_nanos: u64,
) -> Result<ExportLogsServiceRequest, serde_json::Error> {
    let mut request = Request::new(now_nanos, batch.len());
    for raw in batch.raw_records() {
        // Checked once as a whole, the record's strings need no check each.
        let text = std::str::from_utf8(raw)
            .map_err(|_| <serde_json::Error as de::Error>::custom("a record is not UTF-8"))?;
        request.push(serde_json::from_str::<View<'_>>(text)?);
    }
    Ok(request.request)
}

/// The protobuf bytes of [`batch_request`], written a record at a time:
/// each log record is built with the official types, encoded by `prost`
/// and dropped before the next is read, so that the encoder works in one
/// record's memory (building the whole request and then freeing it cost
/// more than encoding it). The bytes are exactly those of
/// `batch_request(batch, now_nanos)?.encode_to_vec()`: the envelope (one
/// `ResourceLogs` per run of records sharing a resource, one `ScopeLogs`
/// each) is framed with `prost`'s own field encoding.
///
/// ```
/// use prost::Message;
/// use timber_core::{Batch, Level, LogRecord};
/// use timber_transport_otlp::{batch_protobuf, batch_request};
/// let batch = Batch::new(&[LogRecord::new(Level::Info, "a"), LogRecord::new(Level::Warn, "b")]);
/// assert_eq!(batch_protobuf(&batch, 7).unwrap(), batch_request(&batch, 7).unwrap().encode_to_vec());
/// ```
pub fn batch_protobuf(batch: &Batch, now_nanos: u64) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(batch.json().len());
    // The current run's resource, and its records as encoded `log_records` fields.
    let mut run: Option<ResourceKey> = None;
    let mut records = Vec::new();
    for raw in batch.raw_records() {
        let text = std::str::from_utf8(raw)
            .map_err(|_| <serde_json::Error as de::Error>::custom("a record is not UTF-8"))?;
        let mut view = serde_json::from_str::<View<'_>>(text)?;
        if !run.as_ref().is_some_and(|key| view.has_resource(key)) {
            if let Some(key) = run.replace(view.take_resource()) {
                write_resource_logs(&mut out, &key, &records);
                records.clear();
            }
        }
        let record = log_record(view, now_nanos);
        prost::encoding::message::encode(LOG_RECORDS, &record, &mut records);
    }
    if let Some(key) = run {
        write_resource_logs(&mut out, &key, &records);
    }
    Ok(out)
}

/// Field numbers of the envelope (`logs_service.proto`, `logs.proto`).
const RESOURCE_LOGS: u32 = 1;
const RESOURCE: u32 = 1;
const SCOPE_LOGS: u32 = 2;
const SCOPE: u32 = 1;
const LOG_RECORDS: u32 = 2;

/// Appends one `resource_logs` field: the resource of `key` and one scope
/// holding `records` (already encoded `log_records` fields), as `prost`
/// encodes a `ResourceLogs` (fields in order, empty ones left out).
fn write_resource_logs(out: &mut Vec<u8>, key: &ResourceKey, records: &[u8]) {
    use prost::encoding::{encode_key, encode_varint, encoded_len_varint, key_len, WireType};
    let ResourceLogs {
        resource,
        scope_logs,
        ..
    } = resource_logs(key);
    let mut resource_field = Vec::new();
    if let Some(resource) = &resource {
        prost::encoding::message::encode(RESOURCE, resource, &mut resource_field);
    }
    let mut scope_field = Vec::new();
    if let Some(scope) = scope_logs.first().and_then(|s| s.scope.as_ref()) {
        prost::encoding::message::encode(SCOPE, scope, &mut scope_field);
    }
    let scope_logs_len = scope_field.len() + records.len();
    let resource_logs_len = resource_field.len()
        + key_len(SCOPE_LOGS)
        + encoded_len_varint(scope_logs_len as u64)
        + scope_logs_len;
    encode_key(RESOURCE_LOGS, WireType::LengthDelimited, out);
    encode_varint(resource_logs_len as u64, out);
    out.extend_from_slice(&resource_field);
    encode_key(SCOPE_LOGS, WireType::LengthDelimited, out);
    encode_varint(scope_logs_len as u64, out);
    out.extend_from_slice(&scope_field);
    out.extend_from_slice(records);
}

/// The resource a run of records shares.
type ResourceKey = (Option<String>, Option<Environment>, Option<String>);

/// A request being built: each record goes under the resource of its run.
struct Request {
    request: ExportLogsServiceRequest,
    current: Option<ResourceKey>,
    now_nanos: u64,
    /// Records still to come, to size a new scope's list at once.
    records: usize,
}

impl Request {
    fn new(now_nanos: u64, records: usize) -> Self {
        Request {
            request: ExportLogsServiceRequest::default(),
            current: None,
            now_nanos,
            records,
        }
    }

    fn push(&mut self, mut view: View<'_>) {
        let same = self
            .current
            .as_ref()
            .is_some_and(|key| view.has_resource(key));
        if !same {
            let key = view.take_resource();
            let mut resource = resource_logs(&key);
            if let Some(scope) = resource.scope_logs.last_mut() {
                scope.log_records.reserve_exact(self.records);
            }
            self.request.resource_logs.push(resource);
            self.current = Some(key);
        }
        self.records = self.records.saturating_sub(1);
        if let Some(scope) = self
            .request
            .resource_logs
            .last_mut()
            .and_then(|r| r.scope_logs.last_mut())
        {
            scope.log_records.push(log_record(view, self.now_nanos));
        }
    }
}

/// A record as the mapping reads it: borrowed from a [`LogRecord`], or
/// read straight from a record's JSON (its serde form: camelCase, absent
/// fields omitted), with `data` already as OTLP values.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct View<'a> {
    level: Level,
    #[serde(borrow)]
    message: Cow<'a, str>,
    #[serde(borrow)]
    source: Option<Cow<'a, str>>,
    environment: Option<Environment>,
    #[serde(borrow)]
    version: Option<Cow<'a, str>>,
    #[serde(borrow)]
    user_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    session_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    request_id: Option<Cow<'a, str>>,
    data: Option<Data>,
    #[serde(borrow)]
    error_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    error_stack: Option<Cow<'a, str>>,
    #[serde(borrow)]
    tags: Vec<Cow<'a, str>>,
    #[serde(borrow)]
    flow_id: Option<Cow<'a, str>>,
    step_index: Option<u32>,
    #[serde(borrow)]
    dataset: Option<Cow<'a, str>>,
    timestamp: Option<i64>,
    #[serde(borrow)]
    ip_address: Option<Cow<'a, str>>,
    #[serde(borrow)]
    country: Option<Cow<'a, str>>,
}

impl<'a> View<'a> {
    fn has_resource(&self, (source, environment, version): &ResourceKey) -> bool {
        source.as_deref() == self.source.as_deref()
            && *environment == self.environment
            && version.as_deref() == self.version.as_deref()
    }

    fn take_resource(&mut self) -> ResourceKey {
        (
            self.source.take().map(Cow::into_owned),
            self.environment,
            self.version.take().map(Cow::into_owned),
        )
    }

    fn of(r: &'a LogRecord) -> Self {
        let text = |s: Option<&'a str>| s.map(Cow::Borrowed);
        View {
            level: r.level,
            message: Cow::Borrowed(&r.message),
            source: text(r.source.as_deref()),
            environment: r.environment,
            version: text(r.version.as_deref()),
            user_id: text(r.user_id.as_deref()),
            session_id: text(r.session_id.as_deref()),
            request_id: text(r.request_id.as_deref()),
            data: r.data.as_ref().map(|data| {
                Data(
                    data.iter()
                        .map(|(k, v)| key_value(k.clone(), any_value(v)))
                        .collect(),
                )
            }),
            error_name: text(r.error_name.as_deref()),
            error_stack: text(r.error_stack.as_deref()),
            tags: r.tags.iter().map(|t| Cow::Borrowed(t.as_str())).collect(),
            flow_id: text(r.flow_id.as_deref()),
            step_index: r.step_index,
            dataset: text(r.dataset.as_deref()),
            timestamp: r.timestamp,
            ip_address: text(r.ip_address.as_deref()),
            country: text(r.country.as_deref()),
        }
    }
}

/// `data`: its keys in order, each with its value as an OTLP value.
#[derive(Default)]
struct Data(Vec<KeyValue>);

impl<'de> Deserialize<'de> for Data {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match deserializer.deserialize_map(AnyVisitor)? {
            JsonAny(Some(Any::KvlistValue(list))) => Ok(Data(list.values)),
            _ => Err(de::Error::custom("data must be a JSON object")),
        }
    }
}

/// A JSON value read straight into an OTLP value, as [`any_value`] maps a
/// `serde_json::Value`.
struct JsonAny(Option<Any>);

impl<'de> Deserialize<'de> for JsonAny {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AnyVisitor)
    }
}

struct AnyVisitor;

impl<'de> Visitor<'de> for AnyVisitor {
    type Value = JsonAny;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<JsonAny, E> {
        Ok(JsonAny(None))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<JsonAny, E> {
        Ok(JsonAny(Some(Any::BoolValue(v))))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<JsonAny, E> {
        Ok(JsonAny(Some(Any::IntValue(v))))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<JsonAny, E> {
        Ok(JsonAny(Some(match i64::try_from(v) {
            Ok(i) => Any::IntValue(i),
            Err(_) => Any::DoubleValue(v as f64),
        })))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<JsonAny, E> {
        Ok(JsonAny(Some(Any::DoubleValue(v))))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<JsonAny, E> {
        Ok(JsonAny(Some(Any::StringValue(v.to_owned()))))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<JsonAny, E> {
        Ok(JsonAny(Some(Any::StringValue(v))))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JsonAny, A::Error> {
        let mut values = Vec::with_capacity(seq.size_hint().unwrap_or(4));
        while let Some(JsonAny(value)) = seq.next_element()? {
            values.push(AnyValue { value });
        }
        Ok(JsonAny(Some(Any::ArrayValue(ArrayValue { values }))))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonAny, A::Error> {
        let mut values = Vec::with_capacity(map.size_hint().unwrap_or(4));
        while let Some((key, JsonAny(value))) = map.next_entry::<String, JsonAny>()? {
            values.push(key_value(key, value));
        }
        Ok(JsonAny(Some(Any::KvlistValue(KeyValueList { values }))))
    }
}

fn resource_logs((source, environment, version): &ResourceKey) -> ResourceLogs {
    let mut attributes = Vec::with_capacity(3);
    if let Some(source) = source {
        attributes.push(string(attr::SERVICE_NAME, source));
    }
    if let Some(environment) = environment {
        attributes.push(string(attr::DEPLOYMENT_ENVIRONMENT, environment.as_str()));
    }
    if let Some(version) = version {
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

fn log_record(record: View<'_>, now_nanos: u64) -> otlp::LogRecord {
    let (number, text) = severity(record.level);
    let time = record.timestamp.and_then(nanos);
    let data = record.data.map_or_else(Vec::new, |d| d.0);
    let mut attributes = Vec::with_capacity(data.len() + 4 + usize::from(!record.tags.is_empty()));
    let error = record.error_name.is_some() || record.error_stack.is_some();
    for mut kv in data {
        let text = matches!(
            kv.value.as_ref().and_then(|v| v.value.as_ref()),
            Some(Any::StringValue(_))
        );
        if error && text && kv.key == "message" {
            kv.key = attr::EXCEPTION_MESSAGE.to_owned();
        } else if kv.key.starts_with("timber.") || attr::FIELDS.contains(&kv.key.as_str()) {
            kv.key.insert_str(0, attr::DATA_PREFIX);
        }
        attributes.push(kv);
    }
    let trace_id = record
        .flow_id
        .as_deref()
        .map(|id| flow_trace_id(id).to_vec())
        .unwrap_or_default();
    let strings = [
        (attr::USER_ID, record.user_id),
        (attr::SESSION_ID, record.session_id),
        (attr::REQUEST_ID, record.request_id),
        (attr::DATASET, record.dataset),
        (attr::FLOW_ID, record.flow_id),
        (attr::EXCEPTION_TYPE, record.error_name),
        (attr::EXCEPTION_STACKTRACE, record.error_stack),
        (attr::CLIENT_ADDRESS, record.ip_address),
        (attr::COUNTRY, record.country),
    ];
    for (key, value) in strings {
        if let Some(value) = value {
            attributes.push(key_value(key, Some(Any::StringValue(value.into_owned()))));
        }
    }
    if let Some(step) = record.step_index {
        attributes.push(key_value(attr::FLOW_STEP, Some(Any::IntValue(step.into()))));
    }
    if !record.tags.is_empty() {
        let tags = record
            .tags
            .into_iter()
            .map(|t| AnyValue {
                value: Some(Any::StringValue(t.into_owned())),
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
            value: Some(Any::StringValue(record.message.into_owned())),
        }),
        attributes,
        trace_id,
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
