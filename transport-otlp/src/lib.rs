//! # timber-transport-otlp
//!
//! The OpenTelemetry transport of the Timberlogs SDK: it implements the
//! [`timber_core::transport::Transport`] port as an OTLP logs exporter
//! (OTLP/HTTP, or OTLP/gRPC with [`Encoding::Grpc`]), so that
//! the same client ships to any OpenTelemetry Collector, and from there to
//! Loki, Elasticsearch, ClickHouse or any vendor.
//!
//! ```text
//!   Client ── worker ──► dyn Transport ──► OtlpTransport ══ OTLP/HTTP or gRPC ══► collector ──► any backend
//!                                              │ (protobuf, JSON; gRPC over HTTP/2)
//!                                              └─ HttpClient: TLS, proxies, headers, timeouts (timber-transport-hyper)
//! ```
//!
//! - each batch is one `ExportLogsServiceRequest`, `POST {base_url}/v1/logs`
//!   where the client's base URL is the collector's OTLP/HTTP endpoint
//!   (`http://collector:4318`, or `https://otlp.example.com` for a gateway);
//!   binary protobuf (`application/x-protobuf`) by default,
//!   OTLP/JSON ([`Encoding::Json`]) as an option. Protobuf is encoded by
//!   `prost` straight from the batch's records ([`export_protobuf`]: the
//!   bytes of the official `opentelemetry-proto` request, without building
//!   it); JSON is the official types' serde mapping ([`export_request`]);
//! - TLS, proxies, custom headers, timeouts, gzip and the runtime are the
//!   hyper transport's, shared as an [`HttpClient`]
//!   configured by the same builder ([`OtlpTransportBuilder::http`]);
//! - flows get local ids (the default of the port), and raw bodies are
//!   refused with a permanent error: OTLP carries structured records.
//!
//! ## Mapping
//!
//! | record field | OTLP |
//! |---|---|
//! | `level` | `severity_number` and `severity_text`: debug 5 `DEBUG`, info 9 `INFO`, warn 13 `WARN`, error 17 `ERROR` |
//! | `message` | `body`, a string |
//! | `timestamp` (ms) | `time_unix_nano` and `observed_time_unix_nano` (`timber.timestamp_ms` when OTLP cannot carry it: 0, before 1970) |
//! | `source` | resource `service.name` |
//! | `environment` | resource `deployment.environment.name` |
//! | `version` | resource `service.version` |
//! | `data` | one attribute per key, its JSON value as an `AnyValue` (objects as key-value lists, arrays as arrays, integers as ints, other numbers as doubles, `null` as an empty value); a key that is one of the names below or starts with `timber.` goes as `timber.data.{key}` |
//! | `errorName` | `exception.type` |
//! | `errorStack` | `exception.stacktrace` |
//! | `data.message` of an error record | `exception.message` |
//! | `userId` | `enduser.id` |
//! | `sessionId` | `session.id` |
//! | `requestId` | `timber.request_id` |
//! | `tags` | `timber.tags`, an array of strings |
//! | `flowId` | `timber.flow.id`, and, for a record of no other trace, the `trace_id`: [`flow_trace_id`], 16 bytes hashed from the flow id, so a backend groups a flow as a trace |
//! | the record's trace context (`Record::trace_context`) | `trace_id`, `span_id`, `flags` |
//! | `stepIndex` | `timber.flow.step`, an int |
//! | `dataset` | `timber.dataset` |
//! | `ipAddress` | `client.address` |
//! | `country` | `geo.country.iso_code` |
//!
//! A batch is one resource (the client's `source`, `environment` and
//! `version`), its records in their order under one scope, `timber-rs`
//! with this crate's version. The names
//! are constants in [`attributes`]; [`records_from`] maps back.
//!
//! ## Answers
//!
//! As the OTLP specification says: 2xx delivered; 429, 502, 503 and 504
//! retryable, after `Retry-After` when the collector gives one; 400 (bad
//! data) and 413 refused, so the client halves the batch to isolate the
//! records at fault and gives those up (a request is never sent again as
//! it was); any other status is permanent for now (the batch is kept for the
//! next flush); no answer at all (unreachable, reset, timeout) retryable.
//! Over gRPC ([`Encoding::Grpc`]: the unary
//! `opentelemetry.proto.collector.logs.v1.LogsService/Export` call, HTTP/2
//! with prior knowledge over `http://` and ALPN `h2` over TLS, gzip inside
//! gRPC's framing), the specification's table for gRPC codes: CANCELLED,
//! DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE and DATA_LOSS
//! retryable, after the `RetryInfo` of `grpc-status-details-bin` when the
//! server gives one; RESOURCE_EXHAUSTED retryable only with a `RetryInfo`;
//! INVALID_ARGUMENT refused (halved, as a 400); every other code permanent
//! for now; an answer cut before its status retryable.
//! A partial success (`partial_success.rejected_log_records`) is reported,
//! not retried: OTLP has no idempotency, so a resend would duplicate what
//! was accepted. It counts in [`OtlpTransport::rejected_records`] and goes
//! to [`OtlpTransportBuilder::on_partial_success`] (a 2xx whose body never
//! arrives whole is delivered, its partial success unknown). Each request also
//! carries the batch's `Idempotency-Key` (collectors ignore it).
//!
//! The client's API key is sent only in the header named by
//! [`OtlpTransportBuilder::api_key_header`]; it never appears in an error or
//! a `Debug` output.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod classify;
mod grpc;
mod map;
mod transport;

pub use map::from_otlp::records_from;
pub use map::protobuf::export_protobuf;
pub use map::to_otlp::export_request;
pub use map::values::{any_value, json_value};
pub use map::{attributes, flow_trace_id, level_of, severity, SCOPE_NAME};
/// The HTTP machinery the transport sends over, and its builder (from
/// `timber-transport-hyper`, re-exported so that no other dependency is
/// needed to configure TLS, proxies, headers and timeouts).
pub use timber_transport_hyper::{BuildError, HttpClient, HttpClientBuilder};
pub use transport::{Encoding, OtlpTransport, OtlpTransportBuilder, PartialSuccess};

/// The official OTLP messages this crate sends (`opentelemetry_proto::tonic`:
/// `collector::logs::v1::ExportLogsServiceRequest` and the rest), for
/// receivers and tests.
pub use opentelemetry_proto::tonic as proto;

/// The `User-Agent` of the transport's requests (a custom header replaces it).
pub use transport::AGENT as USER_AGENT;

/// The code blocks of the README, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
