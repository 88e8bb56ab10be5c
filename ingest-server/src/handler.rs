//! The three endpoints of the protocol.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderValue, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};
use hyper::{Method, Request, Response, StatusCode};
use serde::Deserialize;
use serde_json::json;
use timber_core::{IngestRawOptions, RawFormat};

use crate::http::{is_gzip, query_pairs, read_body, AnswerBody, Refusal};
use crate::misbehave::Action;
use crate::received::{CreatedFlow, RawIngestion, RequestInfo};
use crate::shared::Shared;
use crate::wire;

/// Longest flow name: the id `{name}-{8 chars}` must fit the 50-character limit.
const MAX_FLOW_NAME: usize = 50 - 9;

/// Returned to hyper to make it drop the connection without an answer.
#[derive(Debug)]
pub(crate) struct HangUp;

impl std::fmt::Display for HangUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection closed on purpose")
    }
}

impl std::error::Error for HangUp {}

type Answer = Response<AnswerBody>;

pub(crate) async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Answer, HangUp> {
    // The view is the server's own page, not part of the protocol: no
    // faults, no counting, no key.
    if shared.config.view && crate::view::serves(req.uri().path()) {
        return Ok(crate::view::answer(&shared, &req));
    }
    let mut info = request_info(&req);
    let grpc = speaks_grpc(&shared, &req);
    // A gRPC call's messages say they are gzip in their own header.
    let gzip = is_gzip(req.headers())
        || grpc
            && req
                .headers()
                .get("grpc-encoding")
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
    let mut fault = false;
    let answer = match shared.faults.take(req.uri().path()) {
        Some(Action::Close) => {
            shared.store.note_request(info, gzip, true);
            return Err(HangUp);
        }
        Some(Action::Status {
            status,
            retry_after,
        }) => {
            fault = true;
            Ok(injected(&shared, &mut info, grpc, status, retry_after))
        }
        Some(Action::Delay(d)) => {
            fault = true;
            tokio::time::sleep(d).await;
            route(&shared, req, &mut info).await
        }
        Some(Action::Answer { status, body }) => {
            fault = true;
            let mut answer = Response::new(AnswerBody::Full(Full::new(Bytes::from(body))));
            *answer.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            Ok(answer)
        }
        Some(Action::DelayAnswer(d)) => {
            fault = true;
            let answer = route(&shared, req, &mut info).await;
            tokio::time::sleep(d).await;
            answer
        }
        Some(Action::StallBody) => {
            fault = true;
            route(&shared, req, &mut info).await.map(|answer| {
                let (mut parts, _) = answer.into_parts();
                parts.headers.remove(hyper::header::CONTENT_LENGTH);
                // The start of the answer: of its JSON, or of its message's prefix.
                let start: &'static [u8] = if grpc { &[0, 0, 0] } else { b"{\"succ" };
                Response::from_parts(parts, AnswerBody::Stalled(Some(Bytes::from_static(start))))
            })
        }
        None => route(&shared, req, &mut info).await,
    };
    let answer = answer.unwrap_or_else(|Refusal(status, reason)| {
        let answer = failure(&shared, &info, status, &reason);
        info.reason = Some(reason);
        answer
    });
    info.status = Some(answer.status().as_u16());
    shared.store.note_request(info, gzip, fault);
    Ok(answer)
}

/// Whether the request is an OTLP/gRPC call, to be answered in gRPC terms.
fn speaks_grpc(shared: &Shared, req: &Request<Incoming>) -> bool {
    #[cfg(feature = "otlp")]
    if shared.config.otlp.is_some() {
        return crate::otlp_grpc::wanted(req.uri().path(), req.headers());
    }
    let _ = (shared, req);
    false
}

/// The answer of an injected status fault: that status (with its
/// `Retry-After`), or for a gRPC call the gRPC status it maps to.
fn injected(
    shared: &Shared,
    info: &mut RequestInfo,
    grpc: bool,
    status: u16,
    retry_after: Option<String>,
) -> Answer {
    #[cfg(feature = "otlp")]
    if grpc {
        return crate::otlp_grpc::injected(status, retry_after.as_deref(), info);
    }
    let _ = grpc;
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let mut answer = failure(shared, info, status, "injected failure");
    if let Some(v) = retry_after.and_then(|v| HeaderValue::from_str(&v).ok()) {
        answer.headers_mut().insert(RETRY_AFTER, v);
    }
    answer
}

/// A 4xx or 5xx answer in the protocol spoken: `{"error": reason}`, or
/// in OTLP mode a `google.rpc.Status` in the request's encoding.
fn failure(shared: &Shared, info: &RequestInfo, status: StatusCode, reason: &str) -> Answer {
    #[cfg(feature = "otlp")]
    if shared.config.otlp.is_some() {
        return crate::otlp::failure(info.content_type.as_deref(), status, reason);
    }
    let _ = (shared, info);
    json_answer(status, &json!({"error": reason}))
}

async fn route(
    shared: &Shared,
    req: Request<Incoming>,
    info: &mut RequestInfo,
) -> Result<Answer, Refusal> {
    #[cfg(feature = "otlp")]
    if let Some(rules) = &shared.config.otlp {
        if crate::otlp_grpc::wanted(req.uri().path(), req.headers()) {
            return Ok(crate::otlp_grpc::route(shared, rules, req, info).await);
        }
        return crate::otlp::route(shared, rules, req, info).await;
    }
    let path = req.uri().path();
    if path != "/v1/logs" && path != "/v1/flows" {
        return Err(Refusal::new(StatusCode::NOT_FOUND, "no such endpoint"));
    }
    if req.method() != Method::POST {
        return Err(Refusal::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "only POST is allowed",
        ));
    }
    let key = req.headers().get("x-api-key").map(HeaderValue::as_bytes);
    info.authorized = key.is_some_and(|k| {
        (shared.config.any_api_key && !k.is_empty())
            || shared
                .config
                .api_keys
                .iter()
                .any(|a| a.expose().as_bytes() == k)
    });
    if !info.authorized {
        let reason = if key.is_none() {
            "missing X-API-Key header"
        } else {
            "invalid API key"
        };
        return Err(Refusal::new(StatusCode::UNAUTHORIZED, reason));
    }
    let is_flows = path == "/v1/flows";
    let query = req.uri().query().map(str::to_owned);
    let (parts, body) = req.into_parts();
    let (body, wire_bytes) = read_body(&parts.headers, body, shared.config.max_body_bytes).await?;
    if is_flows {
        return create_flow(shared, &body);
    }
    let format = query
        .as_deref()
        .and_then(|q| query_pairs(q).find(|(k, _)| k == "format"));
    match format {
        Some((_, format)) => ingest_raw(
            shared,
            &parts.headers,
            &format,
            query.as_deref().unwrap_or(""),
            body,
            wire_bytes,
        ),
        None => ingest_batch(shared, &parts.headers, body, wire_bytes),
    }
}

fn ingest_batch(
    shared: &Shared,
    headers: &HeaderMap,
    body: Bytes,
    wire_bytes: usize,
) -> Result<Answer, Refusal> {
    expect_content_type(headers, "application/json")?;
    let tally =
        wire::check(&body).map_err(|reason| Refusal::new(StatusCode::BAD_REQUEST, reason))?;
    let count = tally.records;
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok());
    let stored = shared.store.add_batch(body, tally, key, wire_bytes);
    let mut answer = json!({"success": true, "count": count});
    if !stored {
        answer["duplicate"] = json!(true);
    }
    Ok(json_answer(StatusCode::OK, &answer))
}

fn ingest_raw(
    shared: &Shared,
    headers: &HeaderMap,
    format: &str,
    query: &str,
    body: Bytes,
    wire_bytes: usize,
) -> Result<Answer, Refusal> {
    let bad = |reason: String| Refusal::new(StatusCode::BAD_REQUEST, reason);
    let format: RawFormat = format.parse().map_err(|e| bad(format!("{e}")))?;
    let content_type = expect_content_type(headers, format.content_type())?;
    let mut options = IngestRawOptions::new();
    for (name, value) in query_pairs(query) {
        match name.as_str() {
            "source" if value.is_empty() || value.chars().count() > 100 => {
                return Err(bad("source must be 1 to 100 characters".into()))
            }
            "source" => options.source = Some(value),
            "environment" => {
                options.environment = Some(value.parse().map_err(|e| bad(format!("{e}")))?)
            }
            "level" => options.level = Some(value.parse().map_err(|e| bad(format!("{e}")))?),
            "dataset" if value.chars().count() > 50 => {
                return Err(bad("dataset must be at most 50 characters".into()))
            }
            "dataset" => options.dataset = Some(value),
            _ => {}
        }
    }
    let body = String::from_utf8(body.into()).map_err(|_| bad("the body is not UTF-8".into()))?;
    if body.trim().is_empty() {
        return Err(bad("the body is empty".into()));
    }
    let bytes = body.len();
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok());
    let stored = shared.store.add_raw(
        RawIngestion {
            format,
            content_type,
            query: query.to_owned(),
            options,
            body,
        },
        key,
        wire_bytes,
    );
    let mut answer = json!({"success": true, "format": format.as_str(), "bytes": bytes});
    if !stored {
        answer["duplicate"] = json!(true);
    }
    Ok(json_answer(StatusCode::OK, &answer))
}

fn create_flow(shared: &Shared, body: &[u8]) -> Result<Answer, Refusal> {
    #[derive(Deserialize)]
    struct Body {
        name: String,
    }
    let parsed: Body = serde_json::from_slice(body)
        .map_err(|e| Refusal::new(StatusCode::BAD_REQUEST, format!("invalid body: {e}")))?;
    let n = parsed.name.chars().count();
    if n == 0 || n > MAX_FLOW_NAME {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            format!("name must be 1 to {MAX_FLOW_NAME} characters, got {n}"),
        ));
    }
    let mut id = parsed.name.clone();
    id.push('-');
    for _ in 0..8 {
        const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        id.push(CHARS[fastrand::usize(..CHARS.len())] as char);
    }
    let answer = json!({"flowId": id, "name": parsed.name});
    shared.store.add_flow(CreatedFlow {
        id,
        name: parsed.name,
    });
    Ok(json_answer(StatusCode::OK, &answer))
}

/// The request's Content-Type, if its media type is `expected`; 415 otherwise.
fn expect_content_type(headers: &HeaderMap, expected: &str) -> Result<String, Refusal> {
    let value = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media = value.split(';').next().unwrap_or("").trim();
    if media.eq_ignore_ascii_case(expected) {
        Ok(value.to_owned())
    } else {
        Err(Refusal::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Content-Type must be {expected}, got {value:?}"),
        ))
    }
}

fn json_answer(status: StatusCode, body: &serde_json::Value) -> Answer {
    let mut answer = Response::new(AnswerBody::Full(Full::new(Bytes::from(body.to_string()))));
    *answer.status_mut() = status;
    answer
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    answer
}

fn request_info(req: &Request<Incoming>) -> RequestInfo {
    let header = |name| {
        req.headers()
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    RequestInfo {
        method: req.method().to_string(),
        path: req.uri().path().to_owned(),
        query: req.uri().query().map(str::to_owned),
        version: format!("{:?}", req.version()),
        content_type: header(CONTENT_TYPE),
        content_encoding: header(CONTENT_ENCODING),
        idempotency_key: header(hyper::header::HeaderName::from_static("idempotency-key")),
        authorized: false,
        status: None,
        reason: None,
        grpc_status: None,
        headers: req
            .headers()
            .iter()
            .filter(|(name, _)| {
                !matches!(
                    name.as_str(),
                    "x-api-key" | "authorization" | "proxy-authorization"
                )
            })
            .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
            .collect(),
    }
}
