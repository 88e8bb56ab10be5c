//! OTLP/HTTP answers in the client's terms.

use timber_core::transport::{ApiKey, TransportError};
use timber_transport_hyper::header::CONTENT_TYPE;
use timber_transport_hyper::{snippet, HttpAnswer};

/// `google.rpc.Status`, the body of OTLP/HTTP 4xx and 5xx answers: its
/// first two fields (by their numbers in `google/rpc/status.proto`),
/// decoded by prost; `details` are skipped as unknown fields.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct RpcStatus {
    #[prost(int32, tag = "1")]
    pub(crate) code: i32,
    #[prost(string, tag = "2")]
    pub(crate) message: String,
}

/// A server's text, bounded and never quoting the key.
pub(crate) fn quote(text: &[u8], key: &ApiKey) -> String {
    snippet(text, key)
}

/// A non-2xx answer, classified as the OTLP specification says: 429, 502,
/// 503 and 504 are retryable (after `Retry-After` when given); 400 (bad
/// data) and 413 (too large) refuse the content, which the client halves
/// to isolate and give up the records at fault, never resending a request
/// as it was; every other status is not retried now (the batch is kept for
/// the next flush). The message starts `HTTP {status}` and quotes the
/// `Status.message` of the answer (or the start of its text).
pub(crate) fn from_answer(answer: &HttpAnswer, key: &ApiKey) -> TransportError {
    let status = answer.status;
    let reason = reason(answer, key);
    let message = if reason.is_empty() {
        format!("HTTP {status}: {}", status_text(status))
    } else {
        format!("HTTP {status}: {}: {reason}", status_text(status))
    };
    match status {
        429 | 502 | 503 | 504 => {
            let error = TransportError::retryable(message);
            match answer.retry_after() {
                Some(after) => error.with_retry_after(after),
                None => error,
            }
        }
        400 | 413 => TransportError::refused(message),
        _ => TransportError::permanent(message),
    }
}

/// What the answer says went wrong: its `Status.message` (protobuf or
/// JSON), else the start of its text.
fn reason(answer: &HttpAnswer, key: &ApiKey) -> String {
    let Some(body) = answer.body.as_deref().filter(|b| !b.is_empty()) else {
        return String::new();
    };
    let media = answer
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase());
    let message = match media.as_deref() {
        Some("application/x-protobuf") => <RpcStatus as prost::Message>::decode(body)
            .ok()
            .map(|s| s.message),
        Some("application/json") => serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("message")?.as_str().map(str::to_owned)),
        _ => None,
    };
    match message {
        Some(message) => quote(message.as_bytes(), key),
        None if media.as_deref() == Some("application/x-protobuf") => String::new(),
        None => quote(body, key),
    }
}

fn status_text(status: u16) -> &'static str {
    match status {
        400 => "bad data",
        401 => "unauthorized (check the credentials)",
        403 => "forbidden",
        404 => "not found (check the base URL and the path)",
        413 => "payload too large",
        415 => "unsupported media type",
        429 => "too many requests",
        502 => "bad gateway",
        503 => "unavailable",
        504 => "gateway timeout",
        500..=599 => "server error (not retried, as OTLP says)",
        300..=399 => "unexpected redirect",
        _ => "unexpected status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;
    use std::time::Duration;
    use timber_core::transport::FailureKind;
    use timber_transport_hyper::header::{HeaderMap, HeaderValue, RETRY_AFTER};

    fn answer(status: u16, content_type: &str, body: Vec<u8>) -> HttpAnswer {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_str(content_type).unwrap());
        headers.insert(RETRY_AFTER, HeaderValue::from_static("2"));
        HttpAnswer {
            status,
            headers,
            body: Some(body.into()),
        }
    }

    #[test]
    fn statuses_classify_as_the_otlp_specification_says() {
        let key = ApiKey::new("tb_test_k3y_secret");
        for status in [429, 502, 503, 504] {
            let e = from_answer(&answer(status, "text/plain", vec![]), &key);
            assert!(e.is_retryable(), "{status}");
            assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
        }
        for status in [400, 413] {
            let e = from_answer(&answer(status, "text/plain", vec![]), &key);
            assert_eq!(e.kind(), FailureKind::Refused, "{status}");
        }
        for status in [301, 401, 403, 404, 408, 415, 500, 501, 505] {
            let e = from_answer(&answer(status, "text/plain", vec![]), &key);
            assert_eq!(e.kind(), FailureKind::Permanent, "{status}");
            assert_eq!(e.retry_after(), None);
        }
    }

    #[test]
    fn the_reason_is_the_status_message_and_never_the_key() {
        let key = ApiKey::new("tb_test_k3y_secret");
        let status = RpcStatus {
            code: 3,
            message: "field severity_number is invalid".into(),
        };
        let e = from_answer(
            &answer(400, "application/x-protobuf", status.encode_to_vec()),
            &key,
        );
        assert_eq!(
            e.to_string(),
            "HTTP 400: bad data: field severity_number is invalid"
        );
        let e = from_answer(
            &answer(
                400,
                "application/json",
                br#"{"code":3,"message":"bad json"}"#.to_vec(),
            ),
            &key,
        );
        assert_eq!(e.to_string(), "HTTP 400: bad data: bad json");
        let e = from_answer(&answer(503, "text/plain", b" overloaded ".to_vec()), &key);
        assert_eq!(e.to_string(), "HTTP 503: unavailable: overloaded");
        let leaky = RpcStatus {
            code: 16,
            message: "bad key TB_TEST_K3Y_SECRET".into(),
        };
        let e = from_answer(
            &answer(401, "application/x-protobuf", leaky.encode_to_vec()),
            &key,
        );
        assert!(!e.to_string().to_lowercase().contains("k3y_secret"), "{e}");
        let e = from_answer(
            &answer(400, "application/x-protobuf", vec![0xff, 0x01]),
            &key,
        );
        assert_eq!(e.to_string(), "HTTP 400: bad data");
    }
}
