//! # timber-core
//!
//! The runtime-agnostic core of the Timberlogs structured-logging SDK.
//!
//! The SDK is hexagonal: this crate holds the domain (records, levels,
//! validation, flows, batching, retry) and one *port*, the [`Transport`]
//! trait. Adapters implement the port: `timber-transport-hyper` sends over
//! HTTPS, [`mock::MockTransport`] records in memory for tests, and you can
//! write your own. Most applications depend on the `timber-sdk` facade,
//! which bundles the core, the HTTPS transport and the raw-format checks.
//!
//! ```text
//!   your code ──► Client / Flow ──► validate ─► bounded queue ─► worker thread
//!                 (Clone, Send,     + stamp       (no I/O on       │ batches by size
//!                  Sync handle)                    the caller)     │ and interval,
//!                                                                  │ retries with backoff
//!                                                                  ▼
//!                                                       dyn Transport  (the port)
//!                                        ┌──────────────────┼──────────────────┐
//!                                  HyperTransport      MockTransport       your own
//!                                  (HTTPS, rustls)     (in memory)
//! ```
//!
//! No async runtime and no HTTP stack are needed here: the worker is a plain
//! thread and the `_async` methods run under any executor.
//!
//! Two optional features bridge the logging ecosystems into a [`Client`]:
//! `tracing` adds `TimberLayer`, a `tracing_subscriber::Layer` (span fields,
//! flows from `flow = "name"` spans, errors; callsites it does not want are
//! disabled, alone or as a per-layer filter beside `fmt`), and `log` adds
//! `TimberLogger`, a `log::Log` with `init`/`try_init`. Neither blocks the
//! caller, and neither loops back when the SDK or its HTTP stack logs. Two
//! more let [`Client::error`] take `anyhow::Error` (`anyhow`) and
//! `eyre::Report` (`eyre`) as they are.
//!
//! Between a logging call and the queue, a record can be sampled
//! ([`ClientBuilder::sample_rate`]), edited or dropped
//! ([`ClientBuilder::before_send`]) and redacted
//! ([`ClientBuilder::redact_keys`], on by default with
//! [`DEFAULT_REDACTED_KEYS`]); see [`Hooks`]. Error records carry a
//! backtrace captured on the calling thread and resolved on the worker
//! ([`BacktraceMode`]), and [`Client::install_panic_hook`] turns panics
//! into error records.
//!
//! ```
//! use serde_json::json;
//! use timber_core::{Client, Environment};
//! use timber_core::mock::MockTransport;
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
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod backtrace;
mod batch;
mod block_on;
mod client;
mod clock;
mod config;
mod encode;
mod entry;
mod environment;
mod error;
mod error_arg;
mod flow;
mod global;
mod hooks;
#[cfg(any(feature = "tracing", feature = "log"))]
mod integrations;
mod level;
pub mod mock;
mod panic_hook;
mod payload;
mod pending;
mod pipeline;
mod priority;
mod raw;
mod record;
mod redact;
mod retry;
mod secret;
mod spare;
mod spool;
mod stats;
mod transport;
mod validate;
mod wall_clock;

pub use backtrace::BacktraceMode;
pub use batch::Batch;
pub use client::{Client, ShutdownGuard, WeakClient};
pub use config::{
    ClientBuilder, Config, EnvVar, OnError, OverflowPolicy, RawValidator, DEFAULT_BASE_URL,
    ENV_VARS,
};
pub use entry::{LogEntry, LogOptions};
pub use environment::Environment;
pub use error::{ConfigError, Error};
pub use error_arg::{kinds, ErrorOrData};
pub use flow::Flow;
pub use global::{global, set_global, GlobalGuard};
pub use hooks::{BeforeSend, Hooks};
#[cfg(feature = "log")]
pub use integrations::log_bridge::TimberLogger;
#[cfg(feature = "tracing")]
pub use integrations::tracing_layer::{TimberFilter, TimberLayer};
#[cfg(any(feature = "tracing", feature = "log"))]
pub use integrations::DEFAULT_IGNORED_TARGETS;
pub use level::{Level, UnknownName};
pub use payload::ErrorPayload;
pub use priority::ThreadPriority;
pub use raw::{IngestRawOptions, RawFormat};
pub use record::{now_millis, LogRecord};
pub use redact::{DEFAULT_REDACTED_KEYS, REDACTED};
pub use retry::RetryPolicy;
pub use secret::ApiKey;
pub use spool::SpoolConfig;
pub use stats::Stats;
pub use transport::{Endpoint, FailureKind, RawRequest, Transport, TransportError};
pub use validate::{limits, validate, ValidationError, Violation};

/// Re-exported so transports and tests name the same trait version.
pub use async_trait::async_trait;

/// The code blocks of the README, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
