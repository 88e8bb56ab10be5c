//! The small `google.rpc` and `google.protobuf` messages that OTLP failures
//! carry (feature `otlp`), declared by their field numbers and encoded by
//! prost: a `Status` is the body of an OTLP/HTTP failure and, base64 in
//! `grpc-status-details-bin`, the details of an OTLP/gRPC one. Their own
//! module because both endpoints (otlp.rs, otlp_grpc.rs) build them.

use prost::Message;

/// `google.rpc.Status`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct RpcStatus {
    /// The gRPC code (OTLP/HTTP leaves it 0).
    #[prost(int32, tag = "1")]
    pub(crate) code: i32,
    /// A developer-facing message.
    #[prost(string, tag = "2")]
    pub(crate) message: String,
    /// Typed details, such as a [`RetryInfo`].
    #[prost(message, repeated, tag = "3")]
    pub(crate) details: Vec<ProtoAny>,
}

/// `google.protobuf.Any`: a message and the name of its type.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct ProtoAny {
    /// `type.googleapis.com/<full message name>`.
    #[prost(string, tag = "1")]
    pub(crate) type_url: String,
    /// The encoded message.
    #[prost(bytes = "vec", tag = "2")]
    pub(crate) value: Vec<u8>,
}

/// `google.rpc.RetryInfo`: when the client may try again.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct RetryInfo {
    /// How long to wait.
    #[prost(message, optional, tag = "1")]
    pub(crate) retry_delay: Option<ProtoDuration>,
}

/// `google.protobuf.Duration`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct ProtoDuration {
    /// Whole seconds.
    #[prost(int64, tag = "1")]
    pub(crate) seconds: i64,
    /// The nanoseconds past them.
    #[prost(int32, tag = "2")]
    pub(crate) nanos: i32,
}

/// The `type_url` of a [`RetryInfo`] in an [`ProtoAny`].
pub(crate) const RETRY_INFO_TYPE: &str = "type.googleapis.com/google.rpc.RetryInfo";

impl RpcStatus {
    /// A status with a message and no details.
    pub(crate) fn new(code: i32, message: impl Into<String>) -> Self {
        RpcStatus {
            code,
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// Adds a `RetryInfo` detail: retry after this many seconds.
    pub(crate) fn retry_after(mut self, seconds: i64) -> Self {
        let info = RetryInfo {
            retry_delay: Some(ProtoDuration { seconds, nanos: 0 }),
        };
        self.details.push(ProtoAny {
            type_url: RETRY_INFO_TYPE.to_owned(),
            value: info.encode_to_vec(),
        });
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retry_info_is_encoded_by_its_field_numbers() {
        let bytes = RpcStatus::new(14, "x").retry_after(2).encode_to_vec();
        let mut expected = vec![0x08, 14, 0x12, 1, b'x', 0x1a];
        let any_body: Vec<u8> = [
            &[0x0a, RETRY_INFO_TYPE.len() as u8][..],
            RETRY_INFO_TYPE.as_bytes(),
        ]
        .concat()
        .into_iter()
        // value: RetryInfo { 1: Duration { 1: 2 } }
        .chain([0x12, 4, 0x0a, 2, 0x08, 2])
        .collect();
        expected.push(any_body.len() as u8);
        expected.extend(any_body);
        assert_eq!(bytes, expected);
        let back = RpcStatus::decode(&bytes[..]).unwrap();
        let info = RetryInfo::decode(&back.details[0].value[..]).unwrap();
        assert_eq!(info.retry_delay.unwrap().seconds, 2);
    }
}
