//! The protobuf body of a batch, written in one pass straight from the
//! records with `prost`'s field encodings: each record's fields are
//! written, then its length put in front of them (so that nothing is
//! measured before it is written); its data is read from its JSON text,
//! in place when flat, else once into borrowed values. No intermediate
//! request is built and dropped.
//! The bytes are those of [`export_request`](crate::export_request)'s
//! request encoded with the official types (a proptest checks every byte).

use std::borrow::Cow;

use prost::bytes::BufMut;
use prost::encoding::{self, encoded_len_varint, key_len, WireType};
use prost::Message;
use timber_core::transport::Batch;
use timber_core::Record;

use crate::map::attributes as attr;
use crate::map::flat::{each_member, Flat};
use crate::map::json::Json;
use crate::map::proto_values::{
    encode_only, nested_len, put_bytes, put_int, put_key, put_message, put_str, put_varint, str_len,
};
use crate::map::proto_values::{AnyValue, KeyValue, Value};
use crate::map::to_otlp::{kept_as_is, nanos, renamed};
use crate::map::{severity, string_attributes, trace_fields, SCOPE_NAME};

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
    // One pass: the records are written first, after room for the
    // headers (whose lengths depend on theirs), then the headers are
    // written just before them and the unused room is cut off.
    let resource = Resource { batch, extra };
    let scope_field = nested_len(1, &Scope);
    let headroom = 5 + 2 * (1 + MAX_VARINT) + nested_len(1, &resource) + 1 + scope_field;
    let mut out = Vec::with_capacity(headroom + estimated_len(batch));
    out.resize(headroom, 0);
    for record in batch.records() {
        put_record(record, now_nanos, &mut out);
    }
    let scope_logs_len = scope_field + (out.len() - headroom);
    let resource_logs_len = nested_len(1, &resource) + nested_field_len(2, scope_logs_len);
    let request_len = nested_field_len(1, resource_logs_len);

    let mut head = Vec::with_capacity(headroom);
    if grpc_message {
        head.extend_from_slice(&crate::grpc::prefix(request_len));
    }
    put_key(1, WireType::LengthDelimited, &mut head);
    put_varint(resource_logs_len as u64, &mut head);
    put_message(1, &resource, &mut head);
    put_key(2, WireType::LengthDelimited, &mut head);
    put_varint(scope_logs_len as u64, &mut head);
    put_message(1, &Scope, &mut head);
    let unused = headroom - head.len();
    out[unused..headroom].copy_from_slice(&head);
    out.drain(..unused);
    out
}

/// About the bytes the records take (their text, and room for the fields
/// every record has), so that the buffer is seldom grown.
fn estimated_len(batch: &Batch) -> usize {
    let record = |r: &Record| 96 + r.message().len() + r.data().map_or(0, |d| d.len());
    batch.records().iter().map(record).sum()
}

/// The longest varint (a `u64`'s): room enough for any length.
const MAX_VARINT: usize = 10;

/// The length of a length-delimited field whose value is `len` bytes long.
fn nested_field_len(tag: u32, len: usize) -> usize {
    key_len(tag) + encoded_len_varint(len as u64) + len
}

/// Writes `record` as field 2 of `ScopeLogs`: its length is put in front
/// once its fields are written (most records need two bytes for it: the
/// rest are moved by the difference).
fn put_record(record: &Record, now_nanos: u64, out: &mut Vec<u8>) {
    const ROOM: usize = 2;
    put_key(2, WireType::LengthDelimited, out);
    let at = out.len();
    out.extend_from_slice(&[0; ROOM]);
    put_record_fields(record, now_nanos, out);
    let len = out.len() - at - ROOM;
    let used = encoded_len_varint(len as u64);
    let mut prefix = [0u8; MAX_VARINT];
    put_varint(len as u64, &mut &mut prefix[..]);
    match used {
        ROOM => {}
        1 => {
            out.copy_within(at + ROOM.., at + 1);
            out.truncate(out.len() - (ROOM - 1));
        }
        _ => {
            let end = out.len();
            out.resize(end + used - ROOM, 0);
            out.copy_within(at + ROOM..end, at + used);
        }
    }
    out[at..at + used].copy_from_slice(&prefix[..used]);
}

/// `LogRecord`'s fields, in field order.
fn put_record_fields(record: &Record, now_nanos: u64, out: &mut Vec<u8>) {
    let (number, text) = severity(record.level());
    let time = nanos(record.timestamp());
    if let Some(time) = time.filter(|t| *t != 0) {
        encoding::fixed64::encode(1, &time, out);
    }
    put_int(2, i64::from(number as i32), out);
    put_str(3, text, out);
    put_message(5, &AnyValue(Value::Str(record.message())), out);
    put_data(record, out);
    for kv in field_attributes(record, time) {
        kv.encode_as(6, out);
    }
    let (trace_id, span_id, flags) = trace_fields(record);
    if flags != 0 {
        encoding::fixed32::encode(8, &flags, out);
    }
    if let Some(id) = &trace_id {
        put_bytes(9, id, out);
    }
    if let Some(id) = &span_id {
        put_bytes(10, id, out);
    }
    let observed = time.unwrap_or(now_nanos);
    if observed != 0 {
        encoding::fixed64::encode(11, &observed, out);
    }
}

/// The data's members as attributes: read from the text where they are
/// written when it is flat and no key is renamed, else read once into
/// values (what was written of it is cut off first).
fn put_data(record: &Record, out: &mut Vec<u8>) {
    let Some(text) = record.data().map(|d| d.as_str()) else {
        return;
    };
    let error = record.error_name().is_some() || record.error_stack().is_some();
    let start = out.len();
    let flat = each_member(text, |key, value| {
        let kept = kept_as_is(key, error && matches!(value, Flat::Str(_)));
        if kept {
            KeyValue::new(key, Value::flat(value)).encode_as(6, out);
        }
        kept
    });
    if flat {
        return;
    }
    out.truncate(start);
    for (key, value) in Json::object(text) {
        let key: Cow<'_, str> = renamed(key, error && matches!(value, Json::Str(_)));
        KeyValue::new(&key, Value::Json(&value)).encode_as(6, out);
    }
}

/// The record's strings, the flow step, the tags, the timestamp when
/// OTLP cannot carry it (`time` is `None`).
fn field_attributes(record: &Record, time: Option<u64>) -> impl Iterator<Item = KeyValue<'_>> {
    let r = record;
    let strings = string_attributes(r)
        .into_iter()
        .filter_map(|(key, value)| Some(KeyValue::new(key, Value::Str(value?))));
    let step = r
        .step_index()
        .map(|s| KeyValue::new(attr::FLOW_STEP, Value::Int(s.into())));
    let tags = (!r.tags().is_empty()).then(|| KeyValue::new(attr::TAGS, Value::Tags(r.tags())));
    let timestamp = time
        .is_none()
        .then(|| KeyValue::new(attr::TIMESTAMP_MS, Value::Int(r.timestamp())));
    strings.chain(step).chain(tags).chain(timestamp)
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
            put_message(1, &kv, buf);
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

#[cfg(test)]
mod tests {
    use prost::Message;
    use timber_core::transport::{Batch, Resource};
    use timber_core::{Environment, Level, Record};

    use crate::map::to_otlp::export_request_with;

    #[test]
    fn records_of_every_length_prefix_size_encode_as_the_official_types() {
        // Encoded lengths of one, two, three and four varint bytes.
        for message_len in [0, 100, 200, 16_400, 2_100_000] {
            let resource = Resource::new("api", Environment::Staging, None);
            let records = vec![
                Record::new(Level::Info, "x".repeat(message_len)),
                Record::new(Level::Warn, "after"),
            ];
            let batch = Batch::new(resource, records);
            let official = export_request_with(&batch, 9, &[]).encode_to_vec();
            assert_eq!(super::export_protobuf(&batch, 9), official, "{message_len}");
            let grpc = super::export_grpc_message(&batch, 9, &[]);
            assert_eq!(grpc[..5], crate::grpc::prefix(official.len()));
            assert_eq!(grpc[5..], official);
        }
    }

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
