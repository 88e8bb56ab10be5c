//! The status of a gRPC call and what it means to the client: one table,
//! the OTLP specification's for gRPC, tested here.

use std::time::Duration;

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use timber_core::transport::{ApiKey, FailureKind, TransportError};
use timber_transport_hyper::{snippet, HttpAnswer};

/// `google.rpc.Status`, as `grpc-status-details-bin` carries it.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<Any>,
}

/// `google.protobuf.Any`.
#[derive(Clone, PartialEq, prost::Message)]
struct Any {
    #[prost(string, tag = "1")]
    type_url: String,
    #[prost(bytes = "vec", tag = "2")]
    value: Vec<u8>,
}

/// `google.rpc.RetryInfo`: how long the server asks the client to wait.
#[derive(Clone, PartialEq, prost::Message)]
struct RetryInfo {
    #[prost(message, optional, tag = "1")]
    retry_delay: Option<ProtoDuration>,
}

/// `google.protobuf.Duration`.
#[derive(Clone, PartialEq, prost::Message)]
struct ProtoDuration {
    #[prost(int64, tag = "1")]
    seconds: i64,
    #[prost(int32, tag = "2")]
    nanos: i32,
}

const RETRY_INFO: &str = "type.googleapis.com/google.rpc.RetryInfo";

/// gRPC's status codes (`grpc/status.h`), by name.
const NAMES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];
const UNKNOWN: i32 = 2;
const INVALID_ARGUMENT: i32 = 3;
const DEADLINE_EXCEEDED: i32 = 4;
const RESOURCE_EXHAUSTED: i32 = 8;
const UNAVAILABLE: i32 = 14;

/// What a status means, as the OTLP specification says for gRPC:
/// CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE and
/// DATA_LOSS are retried (after the server's `RetryInfo` when it gives
/// one), RESOURCE_EXHAUSTED only when the server gives a `RetryInfo`;
/// INVALID_ARGUMENT refuses the content, which the client halves to
/// isolate and give up the records at fault; every other code is not
/// retried now (the batch is kept for the next flush).
fn classify(code: i32, retry_info: bool) -> (FailureKind, Option<&'static str>) {
    match code {
        1 | 4 | 10 | 11 | 14 | 15 => (FailureKind::Retry, None),
        RESOURCE_EXHAUSTED if retry_info => (FailureKind::Retry, None),
        RESOURCE_EXHAUSTED => (
            FailureKind::Permanent,
            Some("not retried without RetryInfo, as OTLP says"),
        ),
        INVALID_ARGUMENT => (FailureKind::Refused, None),
        7 | 16 => (FailureKind::Permanent, Some("check the credentials")),
        12 => (
            FailureKind::Permanent,
            Some("is the endpoint an OTLP/gRPC logs receiver?"),
        ),
        _ => (FailureKind::Permanent, None),
    }
}

/// The code of an answer that carries no `grpc-status`, from its HTTP
/// status (gRPC's `http-grpc-status-mapping.md`).
fn from_http(status: u16) -> i32 {
    match status {
        400 => 13,
        401 => 16,
        403 => 7,
        404 => 12,
        429 | 502 | 503 | 504 => UNAVAILABLE,
        _ => UNKNOWN,
    }
}

/// A call's status: its code, the server's message (quoted safely) and
/// the delay of its `RetryInfo`, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Status {
    code: i32,
    message: String,
    retry_delay: Option<Duration>,
}

impl Status {
    /// The status of an answer: `grpc-status` from its trailers, or from
    /// its headers (Trailers-Only); from the HTTP status when neither has
    /// one; DEADLINE_EXCEEDED (retried) when the answer was cut short
    /// before its trailers.
    pub(crate) fn of(answer: &HttpAnswer, key: &ApiKey) -> Status {
        let field = |name: &str| {
            answer
                .trailers
                .get(name)
                .or_else(|| answer.headers.get(name))
        };
        let given = field("grpc-status")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<i32>().ok());
        let (code, missing) = match given {
            Some(code) => (code, ""),
            None if answer.status != 200 => (from_http(answer.status), ""),
            None if answer.body.is_none() => {
                (DEADLINE_EXCEEDED, "the answer ended before its status")
            }
            None => (UNKNOWN, "the answer has no grpc-status"),
        };
        let details = field("grpc-status-details-bin")
            .and_then(|v| details_engine().decode(v.as_bytes()).ok())
            .and_then(|bytes| <RpcStatus as prost::Message>::decode(bytes.as_slice()).ok());
        let message = match field("grpc-message") {
            Some(value) => percent_decode(value.as_bytes()),
            None => details
                .as_ref()
                .map(|d| d.message.clone().into_bytes())
                .unwrap_or_else(|| missing.as_bytes().to_vec()),
        };
        Status {
            code,
            message: snippet(&message, key),
            retry_delay: details.as_ref().and_then(retry_delay),
        }
    }

    pub(crate) fn is_ok(&self) -> bool {
        self.code == 0
    }

    /// The failure this status is: `gRPC {NAME} ({code})`, the hint in
    /// parentheses, the server's message; a retried one carries the delay
    /// of the server's `RetryInfo`.
    pub(crate) fn failure(&self) -> TransportError {
        let (kind, hint) = classify(self.code, self.retry_delay.is_some());
        let name = usize::try_from(self.code)
            .ok()
            .and_then(|i| NAMES.get(i))
            .unwrap_or(&"an unknown code");
        let mut message = format!("gRPC {name} ({})", self.code);
        if let Some(hint) = hint {
            message.push_str(&format!(" ({hint})"));
        }
        if !self.message.is_empty() {
            message.push_str(": ");
            message.push_str(&self.message);
        }
        match kind {
            FailureKind::Refused => TransportError::refused(message),
            FailureKind::Permanent => TransportError::permanent(message),
            _ => match self.retry_delay {
                Some(delay) => TransportError::retryable(message).with_retry_after(delay),
                None => TransportError::retryable(message),
            },
        }
    }
}

/// `grpc-status-details-bin` is base64, padded or not.
fn details_engine() -> GeneralPurpose {
    GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    )
}

/// The delay of the first `RetryInfo` among the details (a negative one
/// is no wait).
fn retry_delay(status: &RpcStatus) -> Option<Duration> {
    let info = status.details.iter().find(|d| d.type_url == RETRY_INFO)?;
    let delay = <RetryInfo as prost::Message>::decode(info.value.as_slice())
        .ok()?
        .retry_delay?;
    let seconds = u64::try_from(delay.seconds).unwrap_or(0);
    let nanos = u32::try_from(delay.nanos).unwrap_or(0).min(999_999_999);
    Some(Duration::new(seconds, nanos))
}

/// `grpc-message` is percent-encoded UTF-8; a malformed escape stays as it is.
fn percent_decode(value: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        let escaped = (value[i] == b'%')
            .then(|| Some(hex(*value.get(i + 1)?)? << 4 | hex(*value.get(i + 2)?)?))
            .flatten();
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(value[i]);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;
    use timber_transport_hyper::header::{HeaderMap, HeaderValue};

    fn answer(
        http: u16,
        trailers: &[(&'static str, String)],
        body: Option<&'static [u8]>,
    ) -> HttpAnswer {
        let mut map = HeaderMap::new();
        for (name, value) in trailers {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        HttpAnswer {
            status: http,
            headers: HeaderMap::new(),
            body: body.map(bytes::Bytes::from_static),
            trailers: map,
        }
    }

    fn details(code: i32, delay: Option<(i64, i32)>) -> String {
        let status = RpcStatus {
            code,
            message: "from details".to_owned(),
            details: delay
                .map(|(seconds, nanos)| Any {
                    type_url: RETRY_INFO.to_owned(),
                    value: RetryInfo {
                        retry_delay: Some(ProtoDuration { seconds, nanos }),
                    }
                    .encode_to_vec(),
                })
                .into_iter()
                .collect(),
        };
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(status.encode_to_vec())
    }

    fn status(code: i32, delay: Option<(i64, i32)>) -> Status {
        let key = ApiKey::new("tb_test_grpc_key");
        let mut fields = vec![("grpc-status", code.to_string())];
        if delay.is_some() {
            fields.push(("grpc-status-details-bin", details(code, delay)));
        }
        Status::of(&answer(200, &fields, Some(b"")), &key)
    }

    #[test]
    fn codes_classify_as_the_otlp_specification_says() {
        for code in [1, 4, 10, 11, 14, 15] {
            let e = status(code, None).failure();
            assert!(e.is_retryable(), "{code}: {e}");
        }
        let e = status(RESOURCE_EXHAUSTED, Some((2, 500_000_000))).failure();
        assert!(e.is_retryable());
        assert_eq!(e.retry_after(), Some(Duration::from_millis(2500)));
        let e = status(RESOURCE_EXHAUSTED, None).failure();
        assert_eq!(e.kind(), FailureKind::Permanent);
        assert!(e.to_string().contains("without RetryInfo"), "{e}");
        assert_eq!(
            status(INVALID_ARGUMENT, None).failure().kind(),
            FailureKind::Refused
        );
        for code in [2, 5, 6, 7, 9, 12, 13, 16, 17, -1] {
            let e = status(code, None).failure();
            assert_eq!(e.kind(), FailureKind::Permanent, "{code}: {e}");
        }
        let e = status(14, Some((1, 0))).failure();
        assert_eq!(e.retry_after(), Some(Duration::from_secs(1)));
        assert!(
            e.to_string()
                .starts_with("gRPC UNAVAILABLE (14): from details"),
            "{e}"
        );
        assert!(status(0, None).is_ok());
        assert!(status(16, None)
            .failure()
            .to_string()
            .contains("check the credentials"));
    }

    #[test]
    fn a_negative_or_malformed_retry_delay_is_no_wait() {
        assert_eq!(
            status(14, Some((-5, -1))).failure().retry_after(),
            Some(Duration::ZERO)
        );
        let key = ApiKey::new("tb_test_grpc_key");
        let fields = [
            ("grpc-status", "14".to_owned()),
            ("grpc-status-details-bin", "!!not base64".to_owned()),
        ];
        let e = Status::of(&answer(200, &fields, None), &key).failure();
        assert!(e.is_retryable());
        assert_eq!(e.retry_after(), None);
    }

    #[test]
    fn without_grpc_status_the_http_status_or_the_cut_answer_decides() {
        let key = ApiKey::new("tb_test_grpc_key");
        let of = |http, body| Status::of(&answer(http, &[], body), &key).failure();
        assert!(of(503, Some(b"")).is_retryable());
        assert!(of(429, None).is_retryable());
        assert_eq!(of(404, Some(b"")).kind(), FailureKind::Permanent);
        assert_eq!(of(400, Some(b"")).kind(), FailureKind::Permanent);
        let cut = of(200, None);
        assert!(cut.is_retryable());
        assert!(cut.to_string().contains("ended before its status"), "{cut}");
        let plain = of(200, Some(b"<html>"));
        assert_eq!(plain.kind(), FailureKind::Permanent);
        assert!(plain.to_string().contains("no grpc-status"), "{plain}");
    }

    #[test]
    fn the_message_is_percent_decoded_and_never_quotes_the_key() {
        assert_eq!(
            percent_decode(b"a%20b%E2%9C%93%zz%4"),
            "a b\u{2713}%zz%4".as_bytes()
        );
        let key = ApiKey::new("tb_live_SUPERSECRETkey01");
        let fields = [
            ("grpc-status", "16".to_owned()),
            (
                "grpc-message",
                "bad key tb_live_SUPERSECRETkey01%20here".to_owned(),
            ),
        ];
        let e = Status::of(&answer(200, &fields, None), &key).failure();
        assert!(!e.to_string().contains("SUPERSECRET"), "{e}");
        assert!(!format!("{e:?}").contains("SUPERSECRET"));
    }
}
