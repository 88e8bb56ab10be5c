//! The JSON the web view shows for each thing received, the same in its
//! live feed and in the `/api/*` answers, so the page reads one shape.

use serde_json::{json, Value};
use timber_core::LogRecord;

use crate::received::{CreatedFlow, RawIngestion, RequestInfo};

/// When the server took something in, in milliseconds since the Unix epoch,
/// and the number it was given (arrival order, shared by batches, raw bodies
/// and flows).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stamp {
    pub(crate) seq: u64,
    pub(crate) received_at: u64,
}

impl Stamp {
    /// The next number, stamped now.
    pub(crate) fn now(seq: u64) -> Self {
        let received_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        Stamp { seq, received_at }
    }
}

/// A batch for the feed: the accepted body as it came, untouched (it is
/// valid JSON), so that watching costs one copy and no parsing.
pub(crate) fn batch(stamp: Stamp, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "{{\"seq\":{},\"receivedAt\":{},\"body\":",
        stamp.seq, stamp.received_at
    )
    .into_bytes();
    out.extend_from_slice(body);
    out.push(b'}');
    out
}

/// One record with the stamp of the batch it came in.
pub(crate) fn record(stamp: Stamp, record: &LogRecord) -> Value {
    let mut value = serde_json::to_value(record).unwrap_or_default();
    if let Value::Object(map) = &mut value {
        map.insert("seq".into(), stamp.seq.into());
        map.insert("receivedAt".into(), stamp.received_at.into());
    }
    value
}

/// A raw body with the records the format's parser reads from it (or why
/// it could not: the server stores raw bodies without parsing them, as the
/// service does, so a body the parser refuses is still shown).
pub(crate) fn raw(stamp: Stamp, raw: &RawIngestion) -> Value {
    let (records, parse_error) = match timber_format::parse(&raw.body, raw.format) {
        Ok(records) => (records, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    json!({
        "seq": stamp.seq,
        "receivedAt": stamp.received_at,
        "format": raw.format.as_str(),
        "contentType": raw.content_type,
        "query": raw.query,
        "source": raw.options.source,
        "body": raw.body,
        "records": records,
        "parseError": parse_error,
    })
}

/// A request's outcome (the API key is never kept, so never shown).
pub(crate) fn request(received_at: Option<u64>, info: &RequestInfo) -> Value {
    json!({
        "receivedAt": received_at,
        "method": info.method,
        "path": info.path,
        "query": info.query,
        "status": info.status,
        "grpcStatus": info.grpc_status,
        "reason": info.reason,
        "authorized": info.authorized,
        "idempotencyKey": info.idempotency_key,
    })
}

/// A flow created through `POST /v1/flows`.
pub(crate) fn flow(stamp: Stamp, flow: &CreatedFlow) -> Value {
    json!({
        "seq": stamp.seq,
        "receivedAt": stamp.received_at,
        "flowId": flow.id,
        "name": flow.name,
    })
}
