//! # timber-core
//!
//! The runtime-agnostic core of the Timberlogs structured-logging SDK.
//!
//! The SDK is hexagonal: this crate holds the domain (records, levels,
//! validation, flows, batching, retry) and one *port*, the
//! [`Transport`](transport::Transport) trait. Adapters implement the port
//! and own their protocol: `timber-transport-hyper` sends the Timberlogs
//! JSON over HTTPS, `timber-transport-otlp` sends OTLP, and
//! `timber-transport-mock` records in memory for tests; you can write your
//! own. Most applications depend on the `timber-sdk` facade, which bundles
//! the core, the HTTPS transport and the raw-format checks.
//!
//! ```text
//!   your code ──► Client / Flow ──► Draft: admit, build, ──► bounded queue ──► worker thread
//!   (or a bridge:  (Clone, Send,    before_send, validate    (no I/O on the     │ batches by size
//!    timber-tracing, Sync handle)   once                      caller)           │ and interval,
//!    timber-log)                                                                │ retries, halves
//!                                                                               ▼ refused batches
//!                                                           dyn Transport  (the port: typed records)
//!                                               ┌──────────────────┼──────────────────┐
//!                                         HyperTransport      OtlpTransport       your own
//!                                         (Timberlogs JSON)   (OTLP protobuf)
//! ```
//!
//! No async runtime and no HTTP stack are needed here: the worker is a plain
//! thread and the `_async` methods run under any executor.
//!
//! The crate is in layers, each using only those below it: [`record`]
//! (values and the protocol's limits), [`transport`] (the port), [`hooks`]
//! (sampling, `before_send`, redaction), [`config`], the pipeline (queue,
//! worker, delivery, spool; private), the client ([`Client`], [`Flow`],
//! [`Draft`]), and [`integration`] (what bridges from other logging APIs
//! share). `ARCHITECTURE.md` in the repository draws the path of a record.
//!
//! Between a logging call and the queue, a record can be sampled
//! ([`ClientBuilder::sample_rate`]), redacted
//! ([`ClientBuilder::redact_keys`], on by default with
//! [`DEFAULT_REDACTED_KEYS`](hooks::DEFAULT_REDACTED_KEYS)) and edited or
//! dropped ([`ClientBuilder::before_send`]); see [`Hooks`](hooks::Hooks).
//! Error records carry a backtrace captured on the calling thread and
//! resolved on the worker ([`BacktraceMode`]), and
//! [`Client::install_panic_hook`] turns panics into error records.
//!
//! The examples use `MockTransport`, the in-memory transport of
//! `timber-transport-mock` (the core's own tests use a copy of its
//! queries, since the mock depends on the core).
//!
//! ```
//! # #[path = "../tests/double/mod.rs"] mod double;
//! # use double::MockTransport;
//! use serde_json::json;
//! use timber_core::{Client, Environment};
//!
//! let mock = MockTransport::new();
//! let client = Client::builder()
//!     .source("my-app")
//!     .environment(Environment::Production)
//!     .api_key("tb_live_xxx")
//!     .transport(mock.clone())
//!     .build()?;
//! client.info("started", json!({"port": 8080}), None);
//! client.disconnect()?;
//! assert_eq!(mock.records()[0].message, "started");
//! # Ok::<(), timber_core::Error>(())
//! ```
// `unsafe` is allowed in one module only, `rt::os` (an exit hook).
#![deny(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The unit tests' transport is the double of the integration tests,
// which names the crate as users do.
#[cfg(test)]
extern crate self as timber_core;

mod client;
pub mod config;
mod error;
pub mod hooks;
pub mod integration;
mod pipeline;
pub mod record;
mod rt;
pub mod transport;

pub use client::data_writer::DataWriter;
pub use client::emit::Draft;
pub use client::error_arg::{kinds, ErrorOrData};
pub use client::flow::Flow;
pub use client::global::{global, set_global, with_global, GlobalGuard};
pub use client::last_words::{flush_on_signals, install_exit_hook, last_words};
pub use client::{Client, ShutdownGuard, WeakClient};
pub use config::{ClientBuilder, Config, OverflowPolicy, SpoolConfig};
pub use error::{ConfigError, Error};
pub use pipeline::stats::Stats;
pub use record::{
    BacktraceMode, Data, Environment, ErrorPayload, IngestRawOptions, Level, LogEntry, LogOptions,
    LogRecord, RawFormat, Record, TraceContext, TraceparentError,
};
pub use rt::priority::ThreadPriority;
pub use rt::wall_clock::now_millis;
pub use transport::RetryPolicy;

/// The code blocks of the README, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
