//! OTLP/gRPC: the unary `LogsService/Export` call, spoken over the hyper
//! machinery's HTTP/2 (no gRPC framework: one call, one message each way).
//!
//! The request is one length-prefixed message (a flag byte, gzip or not,
//! then the length, big-endian, then the `ExportLogsServiceRequest`); the
//! answer is one such message, the `ExportLogsServiceResponse`, and the
//! call's status in the trailers (or, for an error without a message, in
//! the headers: "Trailers-Only").

mod status;

use bytes::Bytes;
use timber_core::transport::{ApiKey, TransportError};
use timber_transport_hyper::header::{HeaderMap, HeaderValue};
use timber_transport_hyper::HttpAnswer;

pub(crate) use status::Status;

/// The method's path, from `opentelemetry/proto/collector/logs/v1/logs_service.proto`.
pub(crate) const EXPORT_PATH: &str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

/// The `Content-Type` of gRPC requests with protobuf messages.
pub(crate) const CONTENT_TYPE: &str = "application/grpc";

/// The length prefix of a message: not compressed, `len` bytes.
pub(crate) fn prefix(len: usize) -> [u8; 5] {
    let [a, b, c, d] = u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes();
    [0, a, b, c, d]
}

/// A message already prefixed (by [`prefix`]), gzipped when the client's
/// `gzip_min_bytes` rule says so: the body, and whether it is compressed.
pub(crate) fn compress(
    message: Vec<u8>,
    gzip: impl FnOnce(&[u8]) -> Option<Vec<u8>>,
) -> (Vec<u8>, bool) {
    match gzip(&message[5..]) {
        Some(compressed) => {
            let mut body = Vec::with_capacity(5 + compressed.len());
            body.extend_from_slice(&prefix(compressed.len()));
            body[0] = 1;
            body.extend_from_slice(&compressed);
            (body, true)
        }
        None => (message, false),
    }
}

/// The call's own headers: trailers asked for (gRPC needs them), the
/// message's encoding, and the deadline the client keeps.
pub(crate) fn headers(headers: &mut HeaderMap, compressed: bool, timeout: std::time::Duration) {
    headers.insert("te", HeaderValue::from_static("trailers"));
    if compressed {
        headers.insert("grpc-encoding", HeaderValue::from_static("gzip"));
    }
    if let Ok(value) = HeaderValue::from_str(&grpc_timeout(timeout)) {
        headers.insert("grpc-timeout", value);
    }
}

/// `grpc-timeout`: at most 8 digits and a unit.
fn grpc_timeout(timeout: std::time::Duration) -> String {
    let millis = timeout.as_millis();
    if millis < 100_000_000 {
        format!("{millis}m")
    } else {
        format!("{}S", timeout.as_secs().min(99_999_999))
    }
}

/// The answer's response message if the call succeeded, else the failure
/// its status is (classified as the OTLP specification says for gRPC).
/// An answer whose message is compressed or cut short is still a success:
/// only its partial success is unknown.
pub(crate) fn response(answer: &HttpAnswer, key: &ApiKey) -> Result<Option<Bytes>, TransportError> {
    let status = Status::of(answer, key);
    if !status.is_ok() {
        return Err(status.failure());
    }
    let Some(body) = answer.body.as_ref() else {
        return Ok(None);
    };
    let message = match body.get(..5) {
        Some([0, a, b, c, d]) => {
            let len = u32::from_be_bytes([*a, *b, *c, *d]) as usize;
            body.get(5..5 + len).map(|_| body.slice(5..5 + len))
        }
        _ => None,
    };
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_message_is_prefixed_with_its_flag_and_length() {
        assert_eq!(prefix(0), [0, 0, 0, 0, 0]);
        assert_eq!(prefix(0x0102_0304), [0, 1, 2, 3, 4]);
        let mut message = prefix(3).to_vec();
        message.extend_from_slice(b"abc");
        assert_eq!(
            compress(message.clone(), |_| None),
            (message.clone(), false)
        );
        let (body, compressed) = compress(message, |m| {
            assert_eq!(m, b"abc");
            Some(b"gz".to_vec())
        });
        assert!(compressed);
        assert_eq!(body, [1, 0, 0, 0, 2, b'g', b'z']);
    }

    #[test]
    fn the_deadline_fits_grpc_timeout() {
        assert_eq!(grpc_timeout(Duration::from_secs(30)), "30000m");
        assert_eq!(grpc_timeout(Duration::from_secs(200_000)), "200000S");
        assert_eq!(grpc_timeout(Duration::MAX), "99999999S");
    }

    fn ok(body: &'static [u8]) -> HttpAnswer {
        let mut trailers = HeaderMap::new();
        trailers.insert("grpc-status", HeaderValue::from_static("0"));
        HttpAnswer {
            status: 200,
            headers: HeaderMap::new(),
            body: Some(Bytes::from_static(body)),
            trailers,
        }
    }

    #[test]
    fn the_response_message_is_read_from_a_whole_frame_only() {
        let key = ApiKey::new("tb_test_grpc_key");
        let whole = response(&ok(&[0, 0, 0, 0, 2, 8, 1, 99]), &key).unwrap();
        assert_eq!(whole.as_deref(), Some(&[8u8, 1][..]));
        assert_eq!(response(&ok(&[0, 0, 0, 0, 9, 8]), &key).unwrap(), None);
        assert_eq!(response(&ok(&[1, 0, 0, 0, 1, 8]), &key).unwrap(), None);
        assert_eq!(response(&ok(b""), &key).unwrap(), None);
    }
}
