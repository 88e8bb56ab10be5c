//! # timber-log
//!
//! A [`log::Log`] that ships `log` records through a Timberlogs
//! [`Client`](timber_core::Client): the formatted arguments as the message,
//! the key-values (`log::info!(user = 42; "..")`) as data with their JSON
//! types and the client's redaction, an error key-value as `errorName` and
//! `errorStack`. It is built on the core's public
//! [`Client::draft`](timber_core::Client::draft), the path the client's own
//! calls take. With the `tracing` feature it can also hand records on to
//! `tracing` ([`TimberLogger::forward_to_tracing`]). The `timber-sdk`
//! facade re-exports it with its `log` feature.
//!
//! ```
//! use timber_core::Client;
//! use timber_log::TimberLogger;
//! use timber_transport_mock::MockTransport;
//!
//! let mock = MockTransport::new();
//! let client = Client::builder().source("api").api_key("k").transport(mock.clone()).build()?;
//! TimberLogger::new(client.clone()).try_init().expect("no other logger is set");
//! log::warn!(attempt = 2; "retrying");
//! client.flush()?;
//! assert_eq!(mock.records()[0].data.as_ref().unwrap()["attempt"], 2);
//! # Ok::<(), timber_core::Error>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod logger;

pub use logger::TimberLogger;

/// The code blocks of the README, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
