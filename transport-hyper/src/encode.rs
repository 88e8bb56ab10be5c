//! The Timberlogs JSON body of a batch, `{"logs":[LogRecord, ...]}`,
//! written straight from the batch's records: the resource's fields once
//! per batch, each record's data copied as the client rendered it.
//!
//! The fields come in the order of `LogRecord`'s serde form, so the bytes
//! are those serde writes for the same wire records.

use timber_core::transport::Batch;
use timber_core::Record;

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
    if let Some(data) = r.data() {
        out.extend_from_slice(b",\"data\":");
        out.extend_from_slice(data.as_bytes());
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

/// A JSON string; cannot fail (a string, into memory).
fn write_str(out: &mut Vec<u8>, s: &str) {
    let _ = serde_json::to_writer(out, s);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{json, Value};
    use timber_core::transport::Resource;
    use timber_core::{Environment, Level, LogRecord};

    /// Wire records with every field the client can fill.
    fn records() -> impl Strategy<Value = Vec<LogRecord>> {
        let text = "[a-z\"\\\\\n\u{1}é✓ ]{0,12}";
        let record = (
            (0..4usize, "[a-z\"é ]{1,20}", proptest::option::of(text)),
            (proptest::option::of(text), proptest::option::of(text)),
            (
                proptest::option::of(any::<u32>()),
                proptest::collection::vec(text, 0..3),
                proptest::option::of(0..1000u32),
                any::<i64>(),
            ),
        )
            .prop_map(
                |((level, message, user), (stack, country), (n, tags, step, ts))| LogRecord {
                    user_id: user.map(Into::into),
                    error_name: stack.as_ref().map(|_| "E".to_owned()),
                    error_stack: stack,
                    data: n.map(|n| json!({"n": n, "s": "q\"\n"}).as_object().cloned().unwrap()),
                    tags,
                    flow_id: step.map(|_| "f-12345678".into()),
                    step_index: step,
                    dataset: Some("ds".into()),
                    timestamp: Some(ts),
                    country,
                    ..LogRecord::new(Level::ALL[level], message)
                },
            );
        proptest::collection::vec(record, 0..8)
    }

    proptest! {
        /// The body is, byte for byte, what serde writes for the wire records.
        #[test]
        fn the_body_is_serde_s_form_of_the_wire_records(records in records(), version in proptest::option::of("[0-9.]{1,8}")) {
            let resource = Resource::new("api \"x\"", Environment::Staging, version.map(Into::into));
            let batch = Batch::new(resource, records.into_iter().map(timber_core::Record::from).collect());
            let expected = serde_json::to_vec(&json!({"logs": batch.log_records()})).unwrap();
            let body = logs_body(&batch);
            prop_assert_eq!(
                serde_json::from_slice::<Value>(&body).unwrap(),
                serde_json::from_slice::<Value>(&expected).unwrap()
            );
            let wire: Vec<LogRecord> = batch.log_records();
            let serde_body = [&b"{\"logs\":"[..], &serde_json::to_vec(&wire).unwrap(), b"}"].concat();
            prop_assert_eq!(body, serde_body);
        }
    }
}
