//! The protobuf body of a batch, encoded by `prost` straight from the
//! records: each OTLP message is a [`prost::Message`] over borrowed parts
//! of a [`Record`] (its strings are not copied, its data is read from its
//! JSON text: in place when flat, else once into borrowed values), so that
//! no intermediate request is built and dropped.
//! The bytes are those of [`export_request`](crate::export_request)'s
//! request encoded with the official types (a proptest checks every byte).

use std::borrow::Cow;

use prost::bytes::BufMut;
use prost::encoding::{self, key_len};
use prost::Message;
use timber_core::transport::Batch;
use timber_core::Record;

use crate::map::attributes as attr;
use crate::map::flat::{Flat, FlatObject};
use crate::map::json::Json;
use crate::map::proto_values::{bytes_len, encode_only, nested_len, put_bytes, put_str, str_len};
use crate::map::proto_values::{AnyValue, KeyValue, Value};
use crate::map::to_otlp::{kept_as_is, nanos, renamed};
use crate::map::{severity, trace_fields, SCOPE_NAME};

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
    export_protobuf_with(batch, now_nanos, &[])
}

/// [`export_protobuf`] with more resource attributes after the batch's own.
pub(crate) fn export_protobuf_with(
    batch: &Batch,
    now_nanos: u64,
    extra: &[(String, String)],
) -> Vec<u8> {
    encode(batch, now_nanos, extra, false)
}

/// The same request as one gRPC message: its length prefix, then its
/// bytes, written once into one buffer.
pub(crate) fn export_grpc_message(
    batch: &Batch,
    now_nanos: u64,
    extra: &[(String, String)],
) -> Vec<u8> {
    encode(batch, now_nanos, extra, true)
}

fn encode(
    batch: &Batch,
    now_nanos: u64,
    extra: &[(String, String)],
    grpc_message: bool,
) -> Vec<u8> {
    // Every record's view first, so that the request's length is known
    // and its bytes are written once, into a buffer of exactly that size.
    let records: Vec<LogRecordView<'_>> = batch
        .records()
        .iter()
        .map(|record| LogRecordView::new(record, now_nanos))
        .collect();
    let resource_logs = ResourceLogs {
        resource: Resource { batch, extra },
        scope_logs: ScopeLogs { records: &records },
    };
    let request = Request(resource_logs);
    let len = request.encoded_len();
    let mut bytes = Vec::with_capacity(if grpc_message { 5 } else { 0 } + len);
    if grpc_message {
        bytes.extend_from_slice(&crate::grpc::prefix(len));
    }
    request.encode_raw(&mut bytes);
    bytes
}

/// `ExportLogsServiceRequest`: one resource's logs.
struct Request<'a>(ResourceLogs<'a>);

impl Message for Request<'_> {
    #[inline]
    fn encode_raw(&self, buf: &mut impl BufMut) {
        encoding::message::encode(1, &self.0, buf);
    }

    #[inline]
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
    #[inline]
    fn encode_raw(&self, buf: &mut impl BufMut) {
        encoding::message::encode(1, &self.resource, buf);
        encoding::message::encode(2, &self.scope_logs, buf);
    }

    #[inline]
    fn encoded_len(&self) -> usize {
        nested_len(1, &self.resource) + nested_len(2, &self.scope_logs)
    }

    encode_only!();
}

/// `ScopeLogs`: the scope `timber-rs` and the records.
struct ScopeLogs<'a> {
    records: &'a [LogRecordView<'a>],
}

impl Message for ScopeLogs<'_> {
    #[inline]
    fn encode_raw(&self, buf: &mut impl BufMut) {
        encoding::message::encode(1, &Scope, buf);
        for record in self.records {
            encoding::message::encode(2, record, buf);
        }
    }

    #[inline]
    fn encoded_len(&self) -> usize {
        nested_len(1, &Scope) + self.records.iter().map(|r| nested_len(2, r)).sum::<usize>()
    }

    encode_only!();
}

/// `Resource`: `service.name`, `deployment.environment.name`,
/// `service.version`, then the transport's own attributes.
struct Resource<'a> {
    batch: &'a Batch,
    extra: &'a [(String, String)],
}

impl Resource<'_> {
    fn attributes(&self) -> impl Iterator<Item = KeyValue<'_>> {
        let r = self.batch.resource();
        let extra = self.extra.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        [
            Some((attr::SERVICE_NAME, &*r.source)),
            Some((attr::DEPLOYMENT_ENVIRONMENT, r.environment.as_str())),
            r.version.as_deref().map(|v| (attr::SERVICE_VERSION, v)),
        ]
        .into_iter()
        .flatten()
        .chain(extra)
        .map(|(key, value)| KeyValue::new(key, Value::Str(value)))
    }
}

impl Message for Resource<'_> {
    #[inline]
    fn encode_raw(&self, buf: &mut impl BufMut) {
        for kv in self.attributes() {
            encoding::message::encode(1, &kv, buf);
        }
    }

    #[inline]
    fn encoded_len(&self) -> usize {
        self.attributes().map(|kv| nested_len(1, &kv)).sum()
    }

    encode_only!();
}

/// `InstrumentationScope`: this crate's name and version.
struct Scope;

const SCOPE_VERSION: &str = env!("CARGO_PKG_VERSION");

impl Message for Scope {
    #[inline]
    fn encode_raw(&self, buf: &mut impl BufMut) {
        put_str(1, SCOPE_NAME, buf);
        put_str(2, SCOPE_VERSION, buf);
    }

    #[inline]
    fn encoded_len(&self) -> usize {
        str_len(1, SCOPE_NAME) + str_len(2, SCOPE_VERSION)
    }

    encode_only!();
}

/// `LogRecord`, over a record and its data.
struct LogRecordView<'a> {
    record: &'a Record,
    /// The data, when its text is flat and no key is renamed: its members
    /// are read from the text where they are written (else empty).
    flat: FlatObject<'a>,
    /// Otherwise the data's members, read once.
    parsed: Vec<(Cow<'a, str>, Json<'a>)>,
    time: Option<u64>,
    observed: u64,
    trace_id: Option<[u8; 16]>,
    span_id: Option<[u8; 8]>,
    flags: u32,
    /// The encoded length, computed once (a parent asks for it).
    len: usize,
}

impl<'a> LogRecordView<'a> {
    fn new(record: &'a Record, now_nanos: u64) -> Self {
        let error = record.error_name().is_some() || record.error_stack().is_some();
        let text = record.data().map(|d| d.as_str());
        // The data's length is added up as its text is checked: a flat
        // object is walked once more, to be written.
        let mut data_len = 0;
        let flat = text.and_then(|text| {
            FlatObject::new(text, |key, value| {
                data_len += nested_len(6, &KeyValue::new(key, Value::flat(value)));
                kept_as_is(key, error && matches!(value, Flat::Str(_)))
            })
        });
        let parsed = match (text, flat) {
            (Some(text), None) => Json::object(text)
                .into_iter()
                .map(|(key, value)| {
                    let text = matches!(value, Json::Str(_));
                    (renamed(key, error && text), value)
                })
                .collect(),
            _ => Vec::new(),
        };
        if flat.is_none() {
            data_len = parsed
                .iter()
                .map(|(key, value)| nested_len(6, &KeyValue::new(key, Value::Json(value))))
                .sum();
        }
        let time = nanos(record.timestamp());
        let (trace_id, span_id, flags) = trace_fields(record);
        let mut view = LogRecordView {
            record,
            flat: flat.unwrap_or(FlatObject::EMPTY),
            parsed,
            time,
            observed: time.unwrap_or(now_nanos),
            trace_id,
            span_id,
            flags,
            len: 0,
        };
        view.len = view.fields_len(data_len);
        view
    }

    /// The attributes in the mapping's order: data, then the
    /// [fields](Self::field_attributes).
    fn attributes(&self) -> impl Iterator<Item = KeyValue<'_>> {
        let parsed = self
            .parsed
            .iter()
            .map(|(key, value)| KeyValue::new(key, Value::Json(value)));
        let flat = self
            .flat
            .members()
            .map(|(key, value)| KeyValue::new(key, Value::flat(value)));
        parsed.chain(flat).chain(self.field_attributes())
    }

    /// The record's strings, the flow step, the tags, the timestamp when
    /// OTLP cannot carry it.
    fn field_attributes(&self) -> impl Iterator<Item = KeyValue<'_>> {
        let r = self.record;
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
        strings.chain(step).chain(tags).chain(timestamp)
    }

    fn fields_len(&self, data_len: usize) -> usize {
        let (number, text) = severity(self.record.level());
        let fixed = |tag, v: u64| if v == 0 { 0 } else { key_len(tag) + 8 };
        fixed(1, self.time.unwrap_or(0))
            + encoding::int32::encoded_len(2, &(number as i32))
            + str_len(3, text)
            + nested_len(5, &AnyValue(Value::Str(self.record.message())))
            + data_len
            + self
                .field_attributes()
                .map(|kv| nested_len(6, &kv))
                .sum::<usize>()
            + encoding::fixed32::encoded_len(8, &self.flags) * usize::from(self.flags != 0)
            + self.trace_id.map_or(0, |id| bytes_len(9, id.len()))
            + self.span_id.map_or(0, |id| bytes_len(10, id.len()))
            + fixed(11, self.observed)
    }
}

impl Message for LogRecordView<'_> {
    #[inline]
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
        if self.flags != 0 {
            encoding::fixed32::encode(8, &self.flags, buf);
        }
        if let Some(id) = &self.trace_id {
            put_bytes(9, id, buf);
        }
        if let Some(id) = &self.span_id {
            put_bytes(10, id, buf);
        }
        if self.observed != 0 {
            encoding::fixed64::encode(11, &self.observed, buf);
        }
    }

    #[inline]
    fn encoded_len(&self) -> usize {
        self.len
    }

    encode_only!();
}

#[cfg(test)]
mod tests {
    use prost::Message;
    use timber_core::transport::{Batch, Resource};
    use timber_core::{Environment, Level, Record};

    use crate::map::to_otlp::export_request_with;

    #[test]
    fn extra_resource_attributes_encode_as_the_official_types() {
        let resource = Resource::new("api", Environment::Staging, Some("1.2".into()));
        let batch = Batch::new(resource, vec![Record::new(Level::Info, "m")]);
        let extra = [
            ("k8s.pod.name".to_owned(), "api-7f9".to_owned()),
            ("team".to_owned(), String::new()),
        ];
        let request = export_request_with(&batch, 9, &extra);
        assert_eq!(
            super::export_protobuf_with(&batch, 9, &extra),
            request.encode_to_vec()
        );
        let attributes = &request.resource_logs[0]
            .resource
            .as_ref()
            .unwrap()
            .attributes;
        assert_eq!(attributes[3].key, "k8s.pod.name");
        assert_eq!(attributes.len(), 5);
    }
}
