//! What the server received, as its users see it: the counters, a raw
//! ingestion, a created flow, a request. Plain data, apart from the store
//! that keeps them, so that the view's rendering can name them without
//! importing the store.

use std::collections::BTreeMap;

use serde::Serialize;
use timber_core::{IngestRawOptions, Level, RawFormat};

/// Counters of everything the server saw.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Summary {
    /// Requests received (any path, any outcome).
    pub requests: u64,
    /// Batches of structured logs accepted (duplicates excluded).
    pub batches: u64,
    /// Structured records accepted.
    pub records: u64,
    /// Batches and raw bodies whose idempotency key was already stored
    /// (answered 200, not stored again).
    pub duplicate_batches: u64,
    /// Accepted records per level.
    pub by_level: BTreeMap<Level, u64>,
    /// Accepted records per flow id.
    pub by_flow: BTreeMap<String, u64>,
    /// Accepted raw bodies per format (`json`, `csv`...).
    pub raw_by_format: BTreeMap<String, u64>,
    /// Flows created through `POST /v1/flows`.
    pub flows_created: u64,
    /// Requests refused as malformed (4xx other than 401; for an OTLP/gRPC
    /// call, a `grpc-status` other than 0 and 16).
    pub rejected: u64,
    /// Requests refused for a missing or wrong API key (401, or gRPC's
    /// UNAUTHENTICATED, 16).
    pub unauthorized: u64,
    /// Requests that met an injected fault.
    pub faults: u64,
    /// Request bodies that came gzip-encoded.
    pub gzip_bodies: u64,
    /// Request body bytes as they came over the wire.
    pub wire_bytes: u64,
    /// TCP connections accepted.
    pub connections: u64,
    /// Records dropped from memory to stay within `keep_records`, oldest
    /// first (still counted above, and still in the JSONL file).
    pub evicted_records: u64,
    /// Raw bodies dropped from memory to stay within `keep_records`.
    pub evicted_raw: u64,
}

/// One raw ingestion request as received.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RawIngestion {
    /// The `format=` value.
    pub format: RawFormat,
    /// The `Content-Type` header.
    pub content_type: String,
    /// The query string, as sent (still URL-encoded).
    pub query: String,
    /// The decoded `source`, `environment`, `level` and `dataset` options.
    pub options: IngestRawOptions,
    /// The body, decoded from gzip if it was.
    pub body: String,
}

/// A flow the server created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreatedFlow {
    /// `{name}-{8 chars}`.
    pub id: String,
    /// The requested name.
    pub name: String,
}

/// One request as the server saw it (headers that matter to the protocol).
/// The API key is never kept, only whether it was right.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestInfo {
    /// HTTP method.
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// `HTTP/1.1` or `HTTP/2.0`.
    pub version: String,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Content-Encoding`.
    pub content_encoding: Option<String>,
    /// `Idempotency-Key`.
    pub idempotency_key: Option<String>,
    /// Whether the API key was accepted.
    pub authorized: bool,
    /// The status answered; `None` when the connection was closed instead.
    pub status: Option<u16>,
    /// The error reason sent back, for refused requests.
    pub reason: Option<String>,
    /// For an OTLP/gRPC call, the `grpc-status` answered (0 for success;
    /// the HTTP status is then 200 whatever the outcome).
    pub grpc_status: Option<i32>,
    /// Every other header, in order, names lowercase (values that are not
    /// text are left out). Credentials (`X-API-Key`, `Authorization`,
    /// `Proxy-Authorization`) are never kept.
    pub headers: Vec<(String, String)>,
}

impl RequestInfo {
    /// The first value of a header kept in [`headers`](Self::headers).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}
