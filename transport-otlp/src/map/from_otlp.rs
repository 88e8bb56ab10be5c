//! An export request back to the protocol's wire records, for receivers
//! (the ingest server's OTLP mode) and tests.

use std::sync::Arc;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::logs::v1 as otlp;
use serde_json::Map;
use timber_core::{LogRecord, TraceContext};

use crate::map::attributes as attr;
use crate::map::level_of;
use crate::map::values::json_value;

/// The records an export request carries, mapped back (the inverse of
/// [`export_request`](crate::export_request), for receivers and tests): whatever this crate
/// sends comes back as it was, except an empty `data` object (none) and
/// integers above `i64::MAX` in `data` (doubles). Attributes of other
/// senders become `data` keys; a severity maps to its range's level.
///
/// ```
/// use timber_core::transport::{Batch, Resource};
/// use timber_core::{Environment, Level, Record};
/// use timber_transport_otlp::{export_request, records_from};
///
/// let mut record = Record::new(Level::Warn, "disk almost full");
/// record.tags_mut().push("disk".into());
/// let batch = Batch::new(Resource::new("api", Environment::Production, None), vec![record]);
/// assert_eq!(records_from(&export_request(&batch, 0)), batch.log_records());
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
    // A trace context has a span; a flow's own trace (no span) is not one.
    let trace_id = record.trace_id.as_slice().try_into().ok();
    let span_id = record.span_id.as_slice().try_into().ok();
    if let Some(trace) = trace_id
        .zip(span_id)
        .and_then(|(t, s)| TraceContext::new(t, s, (record.flags & 0xff) as u8))
    {
        trace.add_to(&mut data);
    }
    if !data.is_empty() {
        out.data = Some(data);
    }
    out
}
