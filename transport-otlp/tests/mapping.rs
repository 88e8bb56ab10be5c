//! Any batch maps to OTLP and decodes back to the same information,
//! through protobuf bytes and through OTLP/JSON text, with the official
//! types; any bytes a receiver gets decode or fail without a panic.

use std::sync::Arc;

use proptest::prelude::*;
use prost::Message;
use serde_json::{Map, Value};
use timber_core::transport::{Batch, Resource};
use timber_core::{Environment, Level, LogRecord, Record, TraceContext};
use timber_transport_otlp::proto::collector::logs::v1::ExportLogsServiceRequest;
use timber_transport_otlp::{export_protobuf, export_request, flow_trace_id, records_from};

/// Keys that collide with the mapping's own names, or look like them.
const TRICKY_KEYS: &[&str] = &[
    "message",
    "session.id",
    "enduser.id",
    "exception.message",
    "exception.type",
    "timber.tags",
    "timber.data.x",
    "timber.flow.step",
    "timber.timestamp_ms",
    "timber.",
    "service.name",
    "",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(TRICKY_KEYS).prop_map(str::to_owned),
        "\\PC{0,12}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        // Finite doubles that JSON text carries exactly (a batch holds its
        // records as JSON); integers above i64::MAX are documented to
        // become doubles.
        any::<f64>()
            .prop_filter("finite, exact in JSON text", |f| {
                f.is_finite()
                    && serde_json::to_string(f)
                        .ok()
                        .and_then(|t| serde_json::from_str::<f64>(&t).ok())
                        == Some(*f)
            })
            .prop_map(Value::from),
        "\\PC{0,16}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn data() -> impl Strategy<Value = Option<Map<String, Value>>> {
    prop::option::of(
        prop::collection::btree_map(key(), json_value(), 0..5)
            .prop_map(|m| m.into_iter().collect()),
    )
}

fn text() -> impl Strategy<Value = Option<String>> {
    prop::option::of("\\PC{0,20}")
}

fn shared() -> impl Strategy<Value = Option<Arc<str>>> {
    text().prop_map(|t| t.map(Arc::from))
}

fn record() -> impl Strategy<Value = LogRecord> {
    let ids = (
        shared(),
        shared(),
        text(),
        shared(),
        shared(),
        prop::option::of(0u32..=1000),
    );
    let errors = (text(), text(), prop::collection::vec("\\PC{0,8}", 0..4));
    let rest = (prop::option::of(any::<i64>()), text(), text());
    (
        proptest::sample::select(&Level::ALL[..]),
        "\\PC{0,30}",
        data(),
        ids,
        errors,
        rest,
    )
        .prop_map(|(level, message, data, ids, errors, rest)| {
            let (user_id, session_id, request_id, flow_id, dataset, step_index) = ids;
            let (error_name, error_stack, tags) = errors;
            let (timestamp, ip_address, country) = rest;
            LogRecord {
                level,
                message,
                user_id,
                session_id,
                request_id,
                data,
                error_name,
                error_stack,
                tags,
                flow_id,
                step_index,
                dataset,
                timestamp,
                ip_address,
                country,
                ..LogRecord::default()
            }
        })
}

/// Now and then the trace a record was logged in.
fn trace() -> impl Strategy<Value = Option<TraceContext>> {
    prop::option::of(any::<([u8; 16], [u8; 8], u8)>())
        .prop_map(|ids| ids.and_then(|(t, s, f)| TraceContext::new(t, s, f)))
}

/// A batch of up to `n` records under a resource of any shape.
fn batch(n: usize) -> impl Strategy<Value = Batch> {
    let environment = proptest::sample::select(vec![
        Environment::Development,
        Environment::Staging,
        Environment::Production,
    ]);
    (
        prop_oneof![Just("api"), Just("worker \"x\"")],
        environment,
        prop::option::of(prop_oneof![Just("1.0"), Just("2.0")]),
        prop::collection::vec((record(), trace()), 0..n),
    )
        .prop_map(|(source, environment, version, records)| {
            let resource = Resource::new(source, environment, version.map(Arc::from));
            let records = records
                .into_iter()
                .map(|(record, trace)| {
                    let mut record = Record::from(record);
                    record.set_trace_context(trace);
                    record
                })
                .collect();
            Batch::new(resource, records)
        })
}

/// Records whose data are plain fields (strings, integers, booleans,
/// `null`): the shape the encoder reads from the text in place; keys that
/// are renamed and strings with escapes now and then.
fn flat_records() -> impl Strategy<Value = Vec<Record>> {
    let value = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1000i64..1000).prop_map(Value::from),
        "[ -~]{0,12}".prop_map(Value::String),
    ];
    let data = prop::collection::btree_map(key(), value, 0..6);
    let record = (data, text()).prop_map(|(data, error_name)| {
        Record::from(LogRecord {
            data: Some(data.into_iter().collect()),
            error_name,
            ..LogRecord::new(Level::Info, "m")
        })
    });
    prop::collection::vec(record, 0..8)
}

/// The same information: an empty `data` object is no data.
fn normalized(mut record: LogRecord) -> LogRecord {
    if record.data.as_ref().is_some_and(Map::is_empty) {
        record.data = None;
    }
    record
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_batch_survives_protobuf(batch in batch(6)) {
        let bytes = export_request(&batch, 42).encode_to_vec();
        let back = ExportLogsServiceRequest::decode(bytes.as_slice()).unwrap();
        let expected: Vec<LogRecord> = batch.log_records().into_iter().map(normalized).collect();
        prop_assert_eq!(records_from(&back), expected);
        prop_assert_eq!(back.resource_logs.len(), 1, "one resource a batch");
        for (sent, record) in back
            .resource_logs
            .iter()
            .flat_map(|r| &r.scope_logs)
            .flat_map(|s| &s.log_records)
            .zip(batch.records())
        {
            let trace = match record.trace_context() {
                Some(trace) => trace.trace_id().to_vec(),
                None => record.flow_id().map(|f| flow_trace_id(f).to_vec()).unwrap_or_default(),
            };
            prop_assert_eq!(&sent.trace_id, &trace);
            let span = record.trace_context().map(|t| t.span_id().to_vec()).unwrap_or_default();
            prop_assert_eq!(&sent.span_id, &span);
            prop_assert_eq!(sent.flags, record.trace_context().map_or(0, |t| u32::from(t.flags())));
            prop_assert!(sent.observed_time_unix_nano > 0);
        }
    }

    #[test]
    fn any_batch_survives_otlp_json(batch in batch(6)) {
        let text = serde_json::to_vec(&export_request(&batch, 42)).unwrap();
        let back: ExportLogsServiceRequest = serde_json::from_slice(&text).unwrap();
        let expected: Vec<LogRecord> = batch.log_records().into_iter().map(normalized).collect();
        prop_assert_eq!(records_from(&back), expected);
    }

    #[test]
    fn the_transport_s_bytes_are_the_official_types_encoding(batch in batch(8), now in any::<u64>()) {
        prop_assert_eq!(export_protobuf(&batch, now), export_request(&batch, now).encode_to_vec());
    }

    #[test]
    fn plain_data_read_in_place_encodes_as_the_official_types(records in flat_records()) {
        let batch = Batch::new(Resource::new("api", Environment::Production, None), records);
        prop_assert_eq!(export_protobuf(&batch, 7), export_request(&batch, 7).encode_to_vec());
    }

    #[test]
    fn any_bytes_decode_or_fail_without_panicking(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(request) = ExportLogsServiceRequest::decode(bytes.as_slice()) {
            let _ = records_from(&request);
        }
    }
}

#[test]
fn out_of_range_timestamps_travel_in_their_own_attribute() {
    for ms in [0, -1, i64::MIN, i64::MAX, 18_446_744_073_710] {
        let record = LogRecord {
            timestamp: Some(ms),
            ..LogRecord::new(Level::Info, "t")
        };
        let resource = Resource::new("api", Environment::Production, None);
        let batch = Batch::new(resource, vec![Record::from(record)]);
        let request = export_request(&batch, 7);
        let sent = &request.resource_logs[0].scope_logs[0].log_records[0];
        assert_eq!(sent.time_unix_nano, 0, "{ms}");
        assert_eq!(sent.observed_time_unix_nano, 7, "{ms}");
        assert_eq!(sent.attributes[0].key, "timber.timestamp_ms");
        assert_eq!(records_from(&request), batch.log_records());
    }
}
