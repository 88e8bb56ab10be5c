//! OTLP/gRPC logs (feature `otlp`): the unary call
//! `opentelemetry.proto.collector.logs.v1.LogsService/Export`, by hand on
//! hyper (no gRPC framework): the request's one length-prefixed message
//! (gzip when it says so), decoded with the official types; the answer's
//! one message and its `grpc-status: 0` trailer, or a "Trailers-Only"
//! failure. The key and marker rules are OTLP/HTTP's (otlp.rs).

use bytes::{BufMut, Bytes, BytesMut};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE, TRAILER};
use hyper::{Method, Request, Response, StatusCode};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use prost::Message;

use crate::config::OtlpRules;
use crate::http::{gunzip, read_wire, AnswerBody, Refusal};
use crate::otlp::{apply_rules, key_allowed};
use crate::received::RequestInfo;
use crate::rpc::RpcStatus;
use crate::shared::Shared;

/// The path of the one method served.
pub(crate) const EXPORT_PATH: &str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
/// What a gRPC answer says it is.
const GRPC: &str = "application/grpc";
/// The gRPC content types accepted (protobuf, with or without its name).
const ACCEPTED: [&str; 2] = [GRPC, "application/grpc+proto"];
/// A message's prefix: the compressed flag and the big-endian length.
const PREFIX: usize = 5;

/// The gRPC status codes this server answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Code {
    Ok = 0,
    Unknown = 2,
    InvalidArgument = 3,
    PermissionDenied = 7,
    ResourceExhausted = 8,
    Unimplemented = 12,
    Internal = 13,
    Unavailable = 14,
    Unauthenticated = 16,
}

impl Code {
    /// The code for an HTTP status, as the gRPC spec maps them (what a
    /// client makes of a proxy's answer), plus 413 as too large.
    pub(crate) fn for_http(status: u16) -> Code {
        match status {
            400 => Code::InvalidArgument,
            401 => Code::Unauthenticated,
            403 => Code::PermissionDenied,
            404 => Code::Unimplemented,
            413 | 429 => Code::ResourceExhausted,
            502..=504 => Code::Unavailable,
            500..=599 => Code::Internal,
            _ => Code::Unknown,
        }
    }
}

/// A failed call: its code and why.
struct Failure(Code, String);

impl From<Refusal> for Failure {
    fn from(Refusal(status, reason): Refusal) -> Self {
        Failure(Code::for_http(status.as_u16()), reason)
    }
}

/// Whether a request in OTLP mode is a gRPC call (to be answered in gRPC
/// terms, whatever its path): it says it is, or it is for [`EXPORT_PATH`].
pub(crate) fn wanted(path: &str, headers: &HeaderMap) -> bool {
    path == EXPORT_PATH
        || media_type(headers).is_some_and(|m| m.to_ascii_lowercase().starts_with(GRPC))
}

fn media_type(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    value.split(';').next().map(str::trim)
}

/// A gRPC call in OTLP mode: always an HTTP 200, the outcome in its
/// `grpc-status` (also kept in `info`, with the reason of a failure).
pub(crate) async fn route(
    shared: &Shared,
    rules: &OtlpRules,
    req: Request<Incoming>,
    info: &mut RequestInfo,
) -> Response<AnswerBody> {
    match export(shared, rules, req, info).await {
        Ok(answer) => {
            info.grpc_status = Some(Code::Ok as i32);
            answer
        }
        Err(Failure(code, reason)) => {
            let answer = failure(RpcStatus::new(code as i32, reason.clone()));
            info.grpc_status = Some(code as i32);
            info.reason = Some(reason);
            answer
        }
    }
}

/// An injected status fault (`Misbehave::status`) on a gRPC call: the code
/// its HTTP status maps to and, when it has a `retry_after` of whole
/// seconds, a `RetryInfo` in the status details.
pub(crate) fn injected(
    status: u16,
    retry_after: Option<&str>,
    info: &mut RequestInfo,
) -> Response<AnswerBody> {
    let code = Code::for_http(status);
    let mut rpc = RpcStatus::new(code as i32, "injected failure");
    if let Some(seconds) = retry_after.and_then(|v| v.trim().parse::<u32>().ok()) {
        rpc = rpc.retry_after(i64::from(seconds));
    }
    info.grpc_status = Some(code as i32);
    failure(rpc)
}

async fn export(
    shared: &Shared,
    rules: &OtlpRules,
    req: Request<Incoming>,
    info: &mut RequestInfo,
) -> Result<Response<AnswerBody>, Failure> {
    let path = req.uri().path();
    if path != EXPORT_PATH || req.method() != Method::POST {
        return Err(Failure(
            Code::Unimplemented,
            format!("no such method: {} {path}", req.method()),
        ));
    }
    if !media_type(req.headers())
        .is_some_and(|m| ACCEPTED.iter().any(|a| m.eq_ignore_ascii_case(a)))
    {
        return Err(Failure(
            Code::Unimplemented,
            format!("content-type must be {GRPC} or {GRPC}+proto"),
        ));
    }
    if !key_allowed(shared, req.headers(), info) {
        return Err(Failure(Code::Unauthenticated, "invalid API key".into()));
    }
    let (parts, body) = req.into_parts();
    let max = shared.config.max_body_bytes;
    let too_large = || {
        Failure(
            Code::ResourceExhausted,
            format!("the message exceeds {max} bytes"),
        )
    };
    let wire =
        read_wire(body, max.saturating_add(PREFIX))
            .await
            .map_err(|refusal| match refusal.0 {
                StatusCode::PAYLOAD_TOO_LARGE => too_large(),
                _ => refusal.into(),
            })?;
    let invalid = |reason: String| Failure(Code::InvalidArgument, reason);
    if wire.len() < PREFIX {
        return Err(invalid(format!(
            "expected one length-prefixed message, got {} bytes",
            wire.len()
        )));
    }
    let compressed = wire[0];
    let length = u32::from_be_bytes([wire[1], wire[2], wire[3], wire[4]]) as usize;
    if length > max {
        return Err(too_large());
    }
    let message = wire.slice(PREFIX..);
    if message.len() != length {
        return Err(invalid(format!(
            "expected exactly one message of {length} bytes, got {} bytes after its prefix",
            message.len()
        )));
    }
    let message = match compressed {
        0 => message,
        1 => match grpc_encoding(&parts.headers) {
            Some(encoding) if encoding.eq_ignore_ascii_case("gzip") => gunzip(&message, max)
                .map_err(|refusal| match refusal.0 {
                    StatusCode::PAYLOAD_TOO_LARGE => too_large(),
                    _ => refusal.into(),
                })?,
            other => {
                return Err(Failure(
                    Code::Unimplemented,
                    format!("a compressed message needs grpc-encoding gzip, got {other:?}"),
                ))
            }
        },
        flag => return Err(invalid(format!("invalid compressed flag {flag}"))),
    };
    let mut request = ExportLogsServiceRequest::decode(message)
        .map_err(|e| invalid(format!("invalid protobuf message: {e}")))?;
    let partial_success = apply_rules(rules, &mut request).map_err(invalid)?;
    let key = parts
        .headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok());
    // A duplicate is answered as the first time, and not stored again.
    shared.store.add_otlp(request, key, wire.len());
    let response = ExportLogsServiceResponse { partial_success };
    let mut trailers = HeaderMap::new();
    trailers.insert("grpc-status", HeaderValue::from_static("0"));
    let mut answer = Response::new(AnswerBody::Trailed(Some(frame(&response)), Some(trailers)));
    grpc_headers(answer.headers_mut());
    // Over HTTP/1.1 (chunked, to a client that sent `TE: trailers`) hyper
    // sends only the trailers announced.
    answer
        .headers_mut()
        .insert(TRAILER, HeaderValue::from_static("grpc-status"));
    Ok(answer)
}

fn grpc_encoding(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("grpc-encoding")
        .map(|v| v.to_str().unwrap_or("(not text)").trim())
}

/// A message with its prefix: not compressed, then its length.
fn frame(message: &impl Message) -> Bytes {
    let length = message.encoded_len();
    let mut out = BytesMut::with_capacity(PREFIX + length);
    out.put_u8(0);
    out.put_u32(length as u32);
    // Cannot fail: the buffer has room for the whole message.
    let _ = message.encode(&mut out);
    out.freeze()
}

/// What every gRPC answer says in its headers.
fn grpc_headers(headers: &mut HeaderMap) {
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(GRPC));
    headers.insert("grpc-accept-encoding", HeaderValue::from_static("gzip"));
}

/// A "Trailers-Only" answer: HTTP 200, the status in the headers, no body;
/// the details (when there are some) as `grpc-status-details-bin`.
fn failure(status: RpcStatus) -> Response<AnswerBody> {
    let mut answer = Response::new(AnswerBody::Full(Full::new(Bytes::new())));
    *answer.status_mut() = StatusCode::OK;
    let headers = answer.headers_mut();
    grpc_headers(headers);
    headers.insert("grpc-status", HeaderValue::from(status.code));
    if let Ok(message) = HeaderValue::from_str(&percent_encode(&status.message)) {
        headers.insert("grpc-message", message);
    }
    if !status.details.is_empty() {
        if let Ok(details) = HeaderValue::from_str(&base64(&status.encode_to_vec())) {
            headers.insert(HeaderName::from_static("grpc-status-details-bin"), details);
        }
    }
    answer
}

/// `grpc-message`'s encoding: bytes outside printable ASCII, and `%`, as
/// `%XX` of their UTF-8.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if (0x20..=0x7e).contains(&byte) && byte != b'%' {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Standard base64 without padding, as gRPC sends `-bin` metadata.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_metadata() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg");
        assert_eq!(base64(b"fo"), "Zm8");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(&[0xfb, 0xff, 0xfe]), "+//+");
        assert_eq!(percent_encode("50% off: é\n"), "50%25 off: %C3%A9%0A");
    }

    #[test]
    fn maps_http_statuses() {
        let codes: Vec<_> = [400, 401, 403, 404, 413, 429, 500, 502, 503, 504, 418]
            .map(Code::for_http)
            .into();
        use Code::*;
        assert_eq!(
            codes,
            [
                InvalidArgument,
                Unauthenticated,
                PermissionDenied,
                Unimplemented,
                ResourceExhausted,
                ResourceExhausted,
                Internal,
                Unavailable,
                Unavailable,
                Unavailable,
                Unknown
            ]
        );
    }

    #[test]
    fn frames_one_message() {
        let response = ExportLogsServiceResponse::default();
        assert_eq!(&frame(&response)[..], &[0, 0, 0, 0, 0]);
    }
}
