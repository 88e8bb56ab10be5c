//! OTLP/HTTP answers in the client's terms: one table of what each status
//! means, and the reason an answer gives.

use timber_core::transport::{ApiKey, FailureKind, TransportError};
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

/// What a non-2xx status means, as the OTLP specification says: 429,
/// 502, 503 and 504 are retryable (after `Retry-After` when given); 400
/// (bad data) and 413 (too large) refuse the content, which the client
/// halves to isolate and give up the records at fault, never resending a
/// request as it was; every other status is not retried now (the batch is
/// kept for the next flush).
fn classify(status: u16) -> (FailureKind, Option<&'static str>) {
    match status {
        429 | 502 | 503 | 504 => (FailureKind::Retry, None),
        400 | 413 => (FailureKind::Refused, None),
        401 => (FailureKind::Permanent, Some("check the credentials")),
        404 => (
            FailureKind::Permanent,
            Some("check the base URL and the path"),
        ),
        500..=599 => (FailureKind::Permanent, Some("not retried, as OTLP says")),
        _ => (FailureKind::Permanent, None),
    }
}

/// A non-2xx answer as the client's failure, quoting the `Status.message`
/// of the answer (or the start of its text).
pub(crate) fn failure(answer: &HttpAnswer, key: &ApiKey) -> TransportError {
    let (kind, hint) = classify(answer.status);
    answer.failure(kind, hint, &reason(answer, key))
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
        Some(message) => snippet(message.as_bytes(), key),
        None if media.as_deref() == Some("application/x-protobuf") => String::new(),
        None => snippet(body, key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;
    use std::time::Duration;
    use timber_transport_hyper::header::{HeaderMap, HeaderValue, RETRY_AFTER};

    fn answer(status: u16, content_type: &str, body: Vec<u8>) -> HttpAnswer {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_str(content_type).unwrap());
        headers.insert(RETRY_AFTER, HeaderValue::from_static("2"));
        HttpAnswer {
            status,
            headers,
            body: Some(body.into()),
            trailers: HeaderMap::new(),
        }
    }

    #[test]
    fn statuses_classify_as_the_otlp_specification_says() {
        let key = ApiKey::new("tb_test_k3y_secret");
        for status in [429, 502, 503, 504] {
            let e = failure(&answer(status, "text/plain", vec![]), &key);
            assert!(e.is_retryable(), "{status}");
            assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
        }
        for status in [400, 413] {
            let e = failure(&answer(status, "text/plain", vec![]), &key);
            assert_eq!(e.kind(), FailureKind::Refused, "{status}");
        }
        for status in [301, 401, 403, 404, 408, 415, 500, 501, 505] {
            let e = failure(&answer(status, "text/plain", vec![]), &key);
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
        let e = failure(
            &answer(400, "application/x-protobuf", status.encode_to_vec()),
            &key,
        );
        assert_eq!(
            e.to_string(),
            "HTTP 400: bad request: field severity_number is invalid"
        );
        let e = failure(
            &answer(
                400,
                "application/json",
                br#"{"code":3,"message":"bad json"}"#.to_vec(),
            ),
            &key,
        );
        assert_eq!(e.to_string(), "HTTP 400: bad request: bad json");
        let e = failure(&answer(503, "text/plain", b" overloaded ".to_vec()), &key);
        assert_eq!(e.to_string(), "HTTP 503: service unavailable: overloaded");
        let leaky = RpcStatus {
            code: 16,
            message: "bad key TB_TEST_K3Y_SECRET".into(),
        };
        let e = failure(
            &answer(401, "application/x-protobuf", leaky.encode_to_vec()),
            &key,
        );
        assert!(!e.to_string().to_lowercase().contains("k3y_secret"), "{e}");
        let e = failure(
            &answer(400, "application/x-protobuf", vec![0xff, 0x01]),
            &key,
        );
        assert_eq!(e.to_string(), "HTTP 400: bad request");
    }
}
