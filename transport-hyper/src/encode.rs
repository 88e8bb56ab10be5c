//! The Timberlogs JSON body of a batch, `{"logs":[LogRecord, ...]}`,
//! written straight from the batch's records: the resource's fields once
//! per batch, each record's data copied as the client rendered it.
//!
//! The fields come in the order of `LogRecord`'s serde form, so the bytes
//! are those serde writes for the same wire records.

use timber_core::record::write_json_str as write_str;
use timber_core::transport::Batch;
use timber_core::{Data, Record, TraceContext};

/// Room reserved per record in a new body (a typical record is smaller).
const RECORD_BYTES: usize = 256;

/// The body of `POST /v1/logs` for a batch.
///
/// ```
/// use timber_core::transport::{Batch, Resource};
/// use timber_core::{Environment, Level, Record};
///
/// let mut record = Record::new(Level::Warn, "disk");
/// record.set_timestamp(1_700_000_000_000);
/// let batch = Batch::new(Resource::new("api", Environment::Staging, None), vec![record]);
/// assert_eq!(
///     timber_transport_hyper::logs_body(&batch),
///     br#"{"logs":[{"level":"warn","message":"disk","source":"api","environment":"staging","timestamp":1700000000000}]}"#
/// );
/// ```
pub fn logs_body(batch: &Batch) -> Vec<u8> {
    let resource = batch.resource();
    // `,"source":..,"environment":..[,"version":..]`: between message and user id.
    let mut head = Vec::with_capacity(96);
    member_str(&mut head, "source", &resource.source);
    member_str(&mut head, "environment", resource.environment.as_str());
    if let Some(version) = &resource.version {
        member_str(&mut head, "version", version);
    }
    let mut out = Vec::with_capacity(16 + batch.len() * (RECORD_BYTES + head.len()));
    out.extend_from_slice(b"{\"logs\":[");
    for (i, record) in batch.records().iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_record(&mut out, &head, record);
    }
    out.extend_from_slice(b"]}");
    out
}

fn write_record(out: &mut Vec<u8>, head: &[u8], r: &Record) {
    out.extend_from_slice(b"{\"level\":\"");
    out.extend_from_slice(r.level().as_str().as_bytes());
    out.extend_from_slice(b"\",\"message\":");
    write_str(out, r.message());
    out.extend_from_slice(head);
    optional(out, "userId", r.user_id());
    optional(out, "sessionId", r.session_id());
    optional(out, "requestId", r.request_id());
    match (r.data(), r.trace_context()) {
        (Some(data), None) => {
            out.extend_from_slice(b",\"data\":");
            out.extend_from_slice(data.as_bytes());
        }
        (data, Some(trace)) => write_traced_data(out, data.map_or("{}", Data::as_str), trace),
        (None, None) => {}
    }
    optional(out, "errorName", r.error_name());
    optional(out, "errorStack", r.error_stack());
    if !r.tags().is_empty() {
        out.extend_from_slice(b",\"tags\":");
        let _ = serde_json::to_writer(&mut *out, r.tags());
    }
    optional(out, "flowId", r.flow_id());
    if let Some(step) = r.step_index() {
        out.extend_from_slice(b",\"stepIndex\":");
        out.extend_from_slice(itoa::Buffer::new().format(step).as_bytes());
    }
    optional(out, "dataset", r.dataset());
    out.extend_from_slice(b",\"timestamp\":");
    out.extend_from_slice(itoa::Buffer::new().format(r.timestamp()).as_bytes());
    optional(out, "ipAddress", r.ip_address());
    optional(out, "country", r.country());
    out.push(b'}');
}

/// `,"data":` and the data object with the trace's keys after its own (a
/// data key of the same name is kept, as `Record::to_log_record` does).
fn write_traced_data(out: &mut Vec<u8>, data: &str, trace: TraceContext) {
    out.extend_from_slice(b",\"data\":");
    let Some(members) = data.trim_end().strip_suffix('}') else {
        out.extend_from_slice(data.as_bytes());
        return;
    };
    out.extend_from_slice(members.as_bytes());
    let mut empty = members.trim_end() == "{";
    for (key, value) in trace.data_keys() {
        if has_key(data, key) {
            continue;
        }
        if !std::mem::take(&mut empty) {
            out.push(b',');
        }
        write_str(out, key);
        out.push(b':');
        write_str(out, &value);
    }
    out.push(b'}');
}

/// Whether the data object has `key` (read only when its text names it).
fn has_key(data: &str, key: &str) -> bool {
    data.contains(&format!("\"{key}\""))
        && serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(data)
            .is_ok_and(|map| map.contains_key(key))
}

fn optional(out: &mut Vec<u8>, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        member_str(out, name, value);
    }
}

/// `,"name":"value"`, the value escaped.
fn member_str(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
    write_str(out, value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{json, Value};
    use timber_core::transport::Resource;
    use timber_core::{Environment, Level, LogRecord};

    /// Records with every field the client can fill, some in a trace.
    fn records() -> impl Strategy<Value = Vec<timber_core::Record>> {
        let text = "[a-z\"\\\\\n\u{1}\u{1f}\u{7f}é✓ ]{0,12}";
        let record = (
            (0..4usize, "[a-z\"é ]{1,20}", proptest::option::of(text)),
            (proptest::option::of(text), proptest::option::of(text)),
            (
                proptest::option::of(any::<u32>()),
                proptest::collection::vec(text, 0..3),
                proptest::option::of(0..1000u32),
                any::<i64>(),
            ),
            proptest::option::of((any::<[u8; 16]>(), any::<[u8; 8]>(), any::<u8>())),
        )
            .prop_map(
                |((level, message, user), (stack, country), (n, tags, step, ts), trace)| {
                    let trace = trace.and_then(|(t, s, f)| TraceContext::new(t, s, f));
                    let mut record = timber_core::Record::from(LogRecord {
                        user_id: user.map(Into::into),
                        error_name: stack.as_ref().map(|_| "E".to_owned()),
                        error_stack: stack,
                        data: n
                            .map(|n| json!({"n": n, "s": "q\"\n"}).as_object().cloned().unwrap()),
                        tags,
                        flow_id: step.map(|_| "f-12345678".into()),
                        step_index: step,
                        dataset: Some("ds".into()),
                        timestamp: Some(ts),
                        country,
                        ..LogRecord::new(Level::ALL[level], message)
                    });
                    record.set_trace_context(trace);
                    record
                },
            );
        proptest::collection::vec(record, 0..8)
    }

    #[test]
    fn a_traced_record_s_data_gets_the_trace_s_keys_unless_it_has_them() {
        let trace: TraceContext = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            .parse()
            .unwrap();
        let body = |data: Option<Value>| {
            let mut record = timber_core::Record::from(LogRecord {
                data: data.and_then(|d| d.as_object().cloned()),
                ..LogRecord::new(Level::Info, "m")
            });
            record.set_trace_context(Some(trace));
            let batch = Batch::new(Resource::new("s", Environment::Staging, None), vec![record]);
            let body: Value = serde_json::from_slice(&logs_body(&batch)).unwrap();
            assert_eq!(body["logs"][0]["data"], json!(batch.log_records()[0].data));
            body["logs"][0]["data"].clone()
        };
        let keys = json!({"traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "spanId": "00f067aa0ba902b7", "traceFlags": "01"});
        assert_eq!(body(None), keys);
        assert_eq!(body(Some(json!({}))), keys);
        let mut theirs = keys.clone();
        theirs["traceId"] = json!("mine");
        theirs["a"] = json!({"traceId": 1});
        assert_eq!(
            body(Some(json!({"traceId": "mine", "a": {"traceId": 1}}))),
            theirs
        );
    }

    proptest! {
        /// The body is, byte for byte, what serde writes for the wire records.
        #[test]
        fn the_body_is_serde_s_form_of_the_wire_records(records in records(), version in proptest::option::of("[0-9.]{1,8}")) {
            let resource = Resource::new("api \"x\"", Environment::Staging, version.map(Into::into));
            let traced = records.iter().any(|r| r.trace_context().is_some());
            let batch = Batch::new(resource, records);
            let expected = serde_json::to_vec(&json!({"logs": batch.log_records()})).unwrap();
            let body = logs_body(&batch);
            prop_assert_eq!(
                serde_json::from_slice::<Value>(&body).unwrap(),
                serde_json::from_slice::<Value>(&expected).unwrap()
            );
            // Byte for byte too, but for the order of a traced record's data
            // keys (serde's map sorts them).
            if !traced {
                let wire: Vec<LogRecord> = batch.log_records();
                let serde_body = [&b"{\"logs\":"[..], &serde_json::to_vec(&wire).unwrap(), b"}"].concat();
                prop_assert_eq!(body, serde_body);
            }
        }
    }
}
