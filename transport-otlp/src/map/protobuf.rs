//! The protobuf body of a batch, encoded by `prost` straight from the
//! records: each OTLP message is a [`prost::Message`] over borrowed parts
//! of a [`Record`] (its strings are not copied, its data is read once from
//! its JSON text), so that no intermediate request is built and dropped.
//! The bytes are those of [`export_request`](crate::export_request)'s
//! request encoded with the official types (a proptest checks every byte).

use std::borrow::Cow;

use prost::bytes::{Buf, BufMut};
use prost::encoding::{self, encode_key, encode_varint, encoded_len_varint, key_len};
use prost::encoding::{DecodeContext, WireType};
use prost::{DecodeError, Message};
use timber_core::transport::Batch;
use timber_core::Record;

use crate::map::attributes as attr;
use crate::map::json::Json;
use crate::map::to_otlp::{nanos, renamed};
use crate::map::{flow_trace_id, severity, SCOPE_NAME};

/// The protobuf bytes of a batch's export request, as the transport sends
/// them: byte for byte `export_request(batch, now_nanos).encode_to_vec()`,
/// without building the request.
///
/// ```
/// use prost::Message;
/// use timber_core::transport::{Batch, Resource};
/// use timber_core::{Environment, Level, Record};
/// use timber_transport_otlp::{export_protobuf, export_request};
///
/// let resource = Resource::new("api", Environment::Production, None);
/// let batch = Batch::new(resource, vec![Record::new(Level::Warn, "disk")]);
/// assert_eq!(export_protobuf(&batch, 7), export_request(&batch, 7).encode_to_vec());
/// ```
pub fn export_protobuf(batch: &Batch, now_nanos: u64) -> Vec<u8> {
    // The records first, one at a time (a record's view lives only while
    // it is written); then the request around them, whose lengths are
    // known only then.
    let mut records = Vec::with_capacity(batch.records().len() * 128);
    for record in batch.records() {
        encoding::message::encode(2, &LogRecordView::new(record, now_nanos), &mut records);
    }
    let scope_logs = ScopeLogs { records: &records };
    let resource_logs = ResourceLogs {
        resource: Resource(batch),
        scope_logs,
    };
    Request(resource_logs).encode_to_vec()
}

/// A view's fields are written, never read back: decoding skips them.
macro_rules! encode_only {
    () => {
        fn merge_field(
            &mut self,
            tag: u32,
            wire_type: WireType,
            buf: &mut impl Buf,
            ctx: DecodeContext,
        ) -> Result<(), DecodeError> {
            encoding::skip_field(wire_type, tag, buf, ctx)
        }

        fn clear(&mut self) {}
    };
}

/// A string field (left out when empty, as proto3 does).
fn str_len(tag: u32, s: &str) -> usize {
    if s.is_empty() {
        return 0;
    }
    key_len(tag) + encoded_len_varint(s.len() as u64) + s.len()
}

fn put_str(tag: u32, s: &str, buf: &mut impl BufMut) {
    if !s.is_empty() {
        put_bytes(tag, s.as_bytes(), buf);
    }
}

/// A length-delimited field, written even when empty (a oneof's value).
fn put_bytes(tag: u32, bytes: &[u8], buf: &mut impl BufMut) {
    encode_key(tag, WireType::LengthDelimited, buf);
    encode_varint(bytes.len() as u64, buf);
    buf.put_slice(bytes);
}

fn bytes_len(tag: u32, len: usize) -> usize {
    key_len(tag) + encoded_len_varint(len as u64) + len
}

fn nested_len(tag: u32, message: &impl Message) -> usize {
    encoding::message::encoded_len(tag, message)
}

/// `ExportLogsServiceRequest`: one resource's logs.
struct Request<'a>(ResourceLogs<'a>);

impl Message for Request<'_> {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        encoding::message::encode(1, &self.0, buf);
    }

    fn encoded_len(&self) -> usize {
        nested_len(1, &self.0)
    }

    encode_only!();
}

/// `ResourceLogs`: the batch's resource and its one scope.
struct ResourceLogs<'a> {
    resource: Resource<'a>,
    scope_logs: ScopeLogs<'a>,
}

impl Message for ResourceLogs<'_> {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        encoding::message::encode(1, &self.resource, buf);
        encoding::message::encode(2, &self.scope_logs, buf);
    }

    fn encoded_len(&self) -> usize {
        nested_len(1, &self.resource) + nested_len(2, &self.scope_logs)
    }

    encode_only!();
}

/// `ScopeLogs`: the scope `timber-rs` and the records, already encoded
/// (each a field 2).
struct ScopeLogs<'a> {
    records: &'a [u8],
}

impl Message for ScopeLogs<'_> {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        encoding::message::encode(1, &Scope, buf);
        buf.put_slice(self.records);
    }

    fn encoded_len(&self) -> usize {
        nested_len(1, &Scope) + self.records.len()
    }

    encode_only!();
}

/// `Resource`: `service.name`, `deployment.environment.name`, `service.version`.
struct Resource<'a>(&'a Batch);

impl Resource<'_> {
    fn attributes(&self) -> impl Iterator<Item = KeyValue<'_>> {
        let r = self.0.resource();
        [
            Some((attr::SERVICE_NAME, &*r.source)),
            Some((attr::DEPLOYMENT_ENVIRONMENT, r.environment.as_str())),
            r.version.as_deref().map(|v| (attr::SERVICE_VERSION, v)),
        ]
        .into_iter()
        .flatten()
        .map(|(key, value)| KeyValue::new(key, Value::Str(value)))
    }
}

impl Message for Resource<'_> {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        for kv in self.attributes() {
            encoding::message::encode(1, &kv, buf);
        }
    }

    fn encoded_len(&self) -> usize {
        self.attributes().map(|kv| nested_len(1, &kv)).sum()
    }

    encode_only!();
}

/// `InstrumentationScope`: this crate's name and version.
struct Scope;

const SCOPE_VERSION: &str = env!("CARGO_PKG_VERSION");

impl Message for Scope {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        put_str(1, SCOPE_NAME, buf);
        put_str(2, SCOPE_VERSION, buf);
    }

    fn encoded_len(&self) -> usize {
        str_len(1, SCOPE_NAME) + str_len(2, SCOPE_VERSION)
    }

    encode_only!();
}

/// `LogRecord`, over a record and its data read once.
struct LogRecordView<'a> {
    record: &'a Record,
    data: Vec<(Cow<'a, str>, Json<'a>)>,
    time: Option<u64>,
    observed: u64,
    trace_id: Option<[u8; 16]>,
    /// The encoded length, computed once (a parent asks for it).
    len: usize,
}

impl<'a> LogRecordView<'a> {
    fn new(record: &'a Record, now_nanos: u64) -> Self {
        let error = record.error_name().is_some() || record.error_stack().is_some();
        let data = record
            .data()
            .map(|d| Json::object(d.as_str()))
            .unwrap_or_default()
            .into_iter()
            .map(|(key, value)| {
                let text = matches!(value, Json::Str(_));
                (renamed(key, error && text), value)
            })
            .collect();
        let time = nanos(record.timestamp());
        let mut view = LogRecordView {
            record,
            data,
            time,
            observed: time.unwrap_or(now_nanos),
            trace_id: record.flow_id().map(flow_trace_id),
            len: 0,
        };
        view.len = view.fields_len();
        view
    }

    /// The attributes in the mapping's order: data, the record's strings,
    /// the flow step, the tags, the timestamp when OTLP cannot carry it.
    fn attributes(&self) -> impl Iterator<Item = KeyValue<'_>> {
        let r = self.record;
        let data = self
            .data
            .iter()
            .map(|(key, value)| KeyValue::new(key, Value::Json(value)));
        let strings = [
            (attr::USER_ID, r.user_id()),
            (attr::SESSION_ID, r.session_id()),
            (attr::REQUEST_ID, r.request_id()),
            (attr::DATASET, r.dataset()),
            (attr::FLOW_ID, r.flow_id()),
            (attr::EXCEPTION_TYPE, r.error_name()),
            (attr::EXCEPTION_STACKTRACE, r.error_stack()),
            (attr::CLIENT_ADDRESS, r.ip_address()),
            (attr::COUNTRY, r.country()),
        ]
        .into_iter()
        .filter_map(|(key, value)| Some(KeyValue::new(key, Value::Str(value?))));
        let step = r
            .step_index()
            .map(|s| KeyValue::new(attr::FLOW_STEP, Value::Int(s.into())));
        let tags = (!r.tags().is_empty()).then(|| KeyValue::new(attr::TAGS, Value::Tags(r.tags())));
        let timestamp = self
            .time
            .is_none()
            .then(|| KeyValue::new(attr::TIMESTAMP_MS, Value::Int(r.timestamp())));
        data.chain(strings).chain(step).chain(tags).chain(timestamp)
    }

    fn fields_len(&self) -> usize {
        let (number, text) = severity(self.record.level());
        let fixed = |tag, v: u64| if v == 0 { 0 } else { key_len(tag) + 8 };
        fixed(1, self.time.unwrap_or(0))
            + encoding::int32::encoded_len(2, &(number as i32))
            + str_len(3, text)
            + nested_len(5, &AnyValue(Value::Str(self.record.message())))
            + self
                .attributes()
                .map(|kv| nested_len(6, &kv))
                .sum::<usize>()
            + self.trace_id.map_or(0, |id| bytes_len(9, id.len()))
            + fixed(11, self.observed)
    }
}

impl Message for LogRecordView<'_> {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        let (number, text) = severity(self.record.level());
        if let Some(time) = self.time.filter(|t| *t != 0) {
            encoding::fixed64::encode(1, &time, buf);
        }
        encoding::int32::encode(2, &(number as i32), buf);
        put_str(3, text, buf);
        encoding::message::encode(5, &AnyValue(Value::Str(self.record.message())), buf);
        for kv in self.attributes() {
            kv.encode_as(6, buf);
        }
        if let Some(id) = &self.trace_id {
            put_bytes(9, id, buf);
        }
        if self.observed != 0 {
            encoding::fixed64::encode(11, &self.observed, buf);
        }
    }

    fn encoded_len(&self) -> usize {
        self.len
    }

    encode_only!();
}

/// What an attribute's value is made of.
#[derive(Clone, Copy)]
enum Value<'a> {
    Json(&'a Json<'a>),
    Str(&'a str),
    Int(i64),
    Tags(&'a [String]),
}

/// `KeyValue`.
struct KeyValue<'a> {
    key: &'a str,
    value: Value<'a>,
}

impl<'a> KeyValue<'a> {
    fn new(key: &'a str, value: Value<'a>) -> Self {
        KeyValue { key, value }
    }
}

impl KeyValue<'_> {
    /// Writes the key-value as field `tag` of its parent, computing the
    /// value's length once (prost's `message::encode` would ask for it twice).
    fn encode_as(&self, tag: u32, buf: &mut impl BufMut) {
        let value = AnyValue(self.value);
        let value_len = value.encoded_len();
        let len =
            str_len(1, self.key) + key_len(2) + encoded_len_varint(value_len as u64) + value_len;
        encode_key(tag, WireType::LengthDelimited, buf);
        encode_varint(len as u64, buf);
        put_str(1, self.key, buf);
        encode_key(2, WireType::LengthDelimited, buf);
        encode_varint(value_len as u64, buf);
        value.encode_raw(buf);
    }
}

impl Message for KeyValue<'_> {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        put_str(1, self.key, buf);
        encoding::message::encode(2, &AnyValue(self.value), buf);
    }

    fn encoded_len(&self) -> usize {
        str_len(1, self.key) + nested_len(2, &AnyValue(self.value))
    }

    encode_only!();
}

/// `AnyValue`: its one value (none for JSON `null`).
struct AnyValue<'a>(Value<'a>);

/// `ArrayValue` or `KeyValueList`: repeated field 1.
enum List<'a> {
    Json(&'a [Json<'a>]),
    Members(&'a [(Cow<'a, str>, Json<'a>)]),
    Tags(&'a [String]),
}

impl Message for List<'_> {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        match self {
            List::Json(items) => items
                .iter()
                .for_each(|v| encoding::message::encode(1, &AnyValue(Value::Json(v)), buf)),
            List::Members(members) => members.iter().for_each(|(k, v)| {
                encoding::message::encode(1, &KeyValue::new(k, Value::Json(v)), buf)
            }),
            List::Tags(tags) => tags
                .iter()
                .for_each(|t| encoding::message::encode(1, &AnyValue(Value::Str(t)), buf)),
        }
    }

    fn encoded_len(&self) -> usize {
        match self {
            List::Json(items) => items
                .iter()
                .map(|v| nested_len(1, &AnyValue(Value::Json(v))))
                .sum(),
            List::Members(members) => members
                .iter()
                .map(|(k, v)| nested_len(1, &KeyValue::new(k, Value::Json(v))))
                .sum(),
            List::Tags(tags) => tags
                .iter()
                .map(|t| nested_len(1, &AnyValue(Value::Str(t))))
                .sum(),
        }
    }

    encode_only!();
}

impl Message for AnyValue<'_> {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        match self.0 {
            Value::Str(s) => put_bytes(1, s.as_bytes(), buf),
            Value::Int(i) => encoding::int64::encode(3, &i, buf),
            Value::Tags(tags) => encoding::message::encode(5, &List::Tags(tags), buf),
            Value::Json(json) => match json {
                Json::Null => {}
                Json::Str(s) => put_bytes(1, s.as_bytes(), buf),
                Json::Bool(b) => encoding::bool::encode(2, b, buf),
                Json::Int(i) => encoding::int64::encode(3, i, buf),
                Json::Double(d) => encoding::double::encode(4, d, buf),
                Json::Array(items) => encoding::message::encode(5, &List::Json(items), buf),
                Json::Object(members) => encoding::message::encode(6, &List::Members(members), buf),
            },
        }
    }

    fn encoded_len(&self) -> usize {
        match self.0 {
            Value::Str(s) => bytes_len(1, s.len()),
            Value::Int(i) => encoding::int64::encoded_len(3, &i),
            Value::Tags(tags) => nested_len(5, &List::Tags(tags)),
            Value::Json(json) => match json {
                Json::Null => 0,
                Json::Str(s) => bytes_len(1, s.len()),
                Json::Bool(b) => encoding::bool::encoded_len(2, b),
                Json::Int(i) => encoding::int64::encoded_len(3, i),
                Json::Double(d) => encoding::double::encoded_len(4, d),
                Json::Array(items) => nested_len(5, &List::Json(items)),
                Json::Object(members) => nested_len(6, &List::Members(members)),
            },
        }
    }

    encode_only!();
}
