//! # timber-ingest-server
//!
//! A small, real server for the Timberlogs ingest protocol, for tests,
//! benches and the demo. It listens on 127.0.0.1 only, over HTTP or HTTPS
//! (HTTP/2 or HTTP/1.1 by ALPN), and implements the three endpoints:
//!
//! - `POST /v1/logs` with `{"logs":[...]}`: checks the API key, validates
//!   every record against the protocol's limits (400 with the reason), and
//!   stores each batch once per `Idempotency-Key`;
//! - `POST /v1/flows` with `{"name":..}`: answers `{name}-{8 chars}` ids;
//! - `POST /v1/logs?format=..`: stores raw bodies in any of the six formats,
//!   checking the `Content-Type` and the query options.
//!
//! With the `otlp` feature it speaks OTLP logs instead
//! ([`ServerConfig::otlp`]): OTLP/HTTP (protobuf or OTLP/JSON
//! `ExportLogsServiceRequest`s) and, on the same port, OTLP/gRPC (the unary
//! `LogsService/Export` over HTTP/2, h2c or TLS), decoded with the official
//! types, partial successes and refusals on demand.
//!
//! It keeps what it received in memory (the most recent
//! [`ServerConfig::keep_records`], the oldest evicted and counted) and,
//! optionally, appends it as JSONL to a file, and it can be told to
//! misbehave ([`Misbehave`]).
//!
//! [`ServerConfig::view`] adds a live web view at `/` (records as they
//! arrive, by server-sent events) and JSON for scripts under `/api/`. The
//! `timber-ingest-server` command (this crate's binary) runs a server with
//! the view on; `timber-ingest-server --help` lists its options.
//!
//! ```
//! use std::time::Duration;
//! use timber_ingest_server::{IngestServer, Misbehave, ServerConfig, TlsIdentity};
//!
//! let server = IngestServer::start(
//!     ServerConfig::new("tb_test_local").tls(TlsIdentity::generate()?),
//! )?;
//! assert!(server.url().starts_with("https://127.0.0.1:"));
//! let _ca_to_trust = server.ca_pem().unwrap();
//!
//! server.misbehave(Misbehave::status(503).retry_after("1").times(2));
//! assert!(server.wait_until(Duration::ZERO, |s| s.records == 0));
//! # Ok::<(), std::io::Error>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod config;
mod events;
mod filter;
mod handler;
mod http;
mod misbehave;
#[cfg(feature = "otlp")]
mod otlp;
#[cfg(feature = "otlp")]
mod otlp_grpc;
#[cfg(feature = "otlp")]
mod otlp_records;
mod received;
mod render;
#[cfg(feature = "otlp")]
mod rpc;
mod server;
mod shared;
mod sse;
mod store;
mod tls;
mod view;
mod wire;

pub use config::ServerConfig;
pub use misbehave::Misbehave;
pub use received::{CreatedFlow, RawIngestion, RequestInfo, Summary};
pub use server::IngestServer;
pub use tls::TlsIdentity;

/// What the server does with a `POST /v1/logs` body before it answers:
/// parse it and check every record against the protocol's limits. Returns
/// the number of records, or the reason of the 400. For benches.
///
/// ```
/// use timber_ingest_server::check_logs_body;
/// assert_eq!(check_logs_body(br#"{"logs":[{"level":"info","message":"hi"}]}"#), Ok(1));
/// assert!(check_logs_body(br#"{"logs":[{"level":"info","message":""}]}"#)
///     .unwrap_err()
///     .starts_with("logs[0]: message is too short"));
/// ```
pub fn check_logs_body(body: &[u8]) -> Result<u64, String> {
    wire::check(body).map(|tally| tally.records)
}

/// The code blocks of the README, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
