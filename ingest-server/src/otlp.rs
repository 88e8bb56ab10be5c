//! OTLP/HTTP logs (feature `otlp`): `POST /v1/logs` with an
//! `ExportLogsServiceRequest`, binary protobuf or OTLP/JSON, decoded with
//! the official generated types of `opentelemetry-proto`; also the key
//! and marker rules that OTLP/gRPC (otlp_grpc.rs) applies the same way.

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use prost::Message;

use crate::config::OtlpRules;
use crate::http::{read_body, AnswerBody, Refusal};
use crate::otlp_records::records;
use crate::received::RequestInfo;
use crate::rpc::RpcStatus;
use crate::shared::Shared;

pub(crate) const PROTOBUF: &str = "application/x-protobuf";
pub(crate) const JSON: &str = "application/json";

/// Whether the request speaks OTLP/JSON (else binary protobuf).
fn is_json(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case(JSON))
}

/// A 4xx or 5xx answer: a `Status` in the request's encoding.
pub(crate) fn failure(
    content_type: Option<&str>,
    status: StatusCode,
    reason: &str,
) -> Response<AnswerBody> {
    let rpc = RpcStatus::new(0, reason);
    if is_json(content_type) {
        let body = serde_json::json!({"message": rpc.message}).to_string();
        answer(status, JSON, body.into_bytes())
    } else {
        answer(status, PROTOBUF, rpc.encode_to_vec())
    }
}

fn answer(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response<AnswerBody> {
    let mut answer = Response::new(AnswerBody::Full(Full::new(Bytes::from(body))));
    *answer.status_mut() = status;
    answer
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    answer
}

/// Whether a request with these headers may go on: a collector needs no
/// key, but one that comes must be one of the server's (`info.authorized`
/// says whether it was).
pub(crate) fn key_allowed(shared: &Shared, headers: &HeaderMap, info: &mut RequestInfo) -> bool {
    let Some(key) = headers.get("x-api-key") else {
        return true;
    };
    info.authorized = shared
        .config
        .api_keys
        .iter()
        .any(|a| a.expose().as_bytes() == key.as_bytes());
    info.authorized
}

/// Applies the server's marker rules to a decoded request: `Err` with the
/// reason when a record holds the refuse marker (nothing is to be stored),
/// else the records holding the reject marker removed and, if there were
/// any, the partial success that counts them.
pub(crate) fn apply_rules(
    rules: &OtlpRules,
    request: &mut ExportLogsServiceRequest,
) -> Result<Option<ExportLogsPartialSuccess>, String> {
    if let Some(marker) = &rules.refuse {
        if records(request).any(|r| body_text(r).is_some_and(|b| b.contains(marker.as_str()))) {
            return Err(format!("a record's body holds {marker:?}"));
        }
    }
    let mut rejected = 0u64;
    if let Some(marker) = &rules.reject {
        for scope in request
            .resource_logs
            .iter_mut()
            .flat_map(|r| &mut r.scope_logs)
        {
            let before = scope.log_records.len();
            scope
                .log_records
                .retain(|r| !body_text(r).is_some_and(|b| b.contains(marker.as_str())));
            rejected += (before - scope.log_records.len()) as u64;
        }
    }
    Ok((rejected > 0).then(|| ExportLogsPartialSuccess {
        rejected_log_records: rejected as i64,
        error_message: format!(
            "{rejected} log records rejected: their body holds the reject marker"
        ),
    }))
}

/// The string body of a record, if it has one.
fn body_text(record: &LogRecord) -> Option<&str> {
    match record.body.as_ref()?.value.as_ref()? {
        Value::StringValue(s) => Some(s),
        _ => None,
    }
}

/// `POST /v1/logs` in OTLP mode.
pub(crate) async fn route(
    shared: &Shared,
    rules: &OtlpRules,
    req: Request<Incoming>,
    info: &mut RequestInfo,
) -> Result<Response<AnswerBody>, Refusal> {
    if req.uri().path() != "/v1/logs" {
        return Err(Refusal::new(StatusCode::NOT_FOUND, "no such endpoint"));
    }
    if req.method() != Method::POST {
        return Err(Refusal::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "only POST is allowed",
        ));
    }
    if !key_allowed(shared, req.headers(), info) {
        return Err(Refusal::new(StatusCode::UNAUTHORIZED, "invalid API key"));
    }
    let (parts, body) = req.into_parts();
    let json = match media_type(&parts.headers) {
        Some(media) if media.eq_ignore_ascii_case(PROTOBUF) => false,
        Some(media) if media.eq_ignore_ascii_case(JSON) => true,
        _ => {
            return Err(Refusal::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("Content-Type must be {PROTOBUF} or {JSON}"),
            ))
        }
    };
    let (body, wire_bytes) = read_body(&parts.headers, body, shared.config.max_body_bytes).await?;
    let bad = |reason: String| Refusal::new(StatusCode::BAD_REQUEST, reason);
    let mut request = if json {
        serde_json::from_slice::<ExportLogsServiceRequest>(&body)
            .map_err(|e| bad(format!("invalid OTLP/JSON body: {e}")))?
    } else {
        ExportLogsServiceRequest::decode(body)
            .map_err(|e| bad(format!("invalid protobuf body: {e}")))?
    };
    let partial = apply_rules(rules, &mut request).map_err(bad)?;
    let key = parts
        .headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok());
    // A duplicate is answered as the first time, and not stored again.
    shared.store.add_otlp(request, key, wire_bytes);
    Ok(if json {
        // int64 as a decimal string, as the OTLP/JSON mapping wants.
        let body = match &partial {
            Some(p) => serde_json::json!({"partialSuccess": {
                "rejectedLogRecords": p.rejected_log_records.to_string(),
                "errorMessage": p.error_message,
            }}),
            None => serde_json::json!({}),
        };
        answer(StatusCode::OK, JSON, body.to_string().into_bytes())
    } else {
        let response = ExportLogsServiceResponse {
            partial_success: partial,
        };
        answer(StatusCode::OK, PROTOBUF, response.encode_to_vec())
    })
}

fn media_type(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    value.split(';').next().map(str::trim)
}
