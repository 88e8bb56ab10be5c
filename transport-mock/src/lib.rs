//! # timber-transport-mock
//!
//! An in-memory [`Transport`](timber_core::transport::Transport) for
//! application tests: it records every batch, flow creation and raw
//! ingestion, answers queries about what was logged, and fails on demand
//! ([`Fault`]). It is one of the adapters of the core's port, beside the
//! HTTPS and OTLP transports; it pulls in nothing but the core: no runtime,
//! no HTTP stack. `timber-sdk` re-exports it with its `test` feature.
//!
//! ```text
//!   Client ── worker ──► dyn Transport ──► MockTransport (memory, faults)
//!                                      └─► HyperTransport (HTTPS), OtlpTransport (OTLP)
//! ```
//!
//! An application test:
//!
//! ```
//! use timber_core::{Client, Level};
//! use timber_transport_mock::{Fault, MockTransport};
//!
//! // The code under test takes a client...
//! fn charge(client: &Client, amount: u64) {
//!     if amount == 0 {
//!         client.warn("empty charge", serde_json::json!({"amount": amount}), None);
//!     }
//! }
//!
//! // ...and the test gives it one backed by the mock.
//! let mock = MockTransport::new();
//! mock.fail_next(1, Fault::Unavailable); // the first send fails, the retry succeeds
//! let client = Client::builder().source("billing").api_key("tb_test_x")
//!     .retry(timber_core::RetryPolicy {
//!         initial_delay: std::time::Duration::from_millis(1),
//!         ..Default::default()
//!     })
//!     .transport(mock.clone()).build().unwrap();
//! charge(&client, 0);
//! client.flush().unwrap();
//!
//! let warning = mock.last().unwrap();
//! assert_eq!(warning.level, Level::Warn);
//! assert_eq!(warning.data.unwrap()["amount"], 0);
//! assert_eq!(mock.attempts(), 2);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod mock;

pub use mock::{CreatedFlow, Fault, MockTransport, RawIngestion};

/// The code blocks of the README, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
