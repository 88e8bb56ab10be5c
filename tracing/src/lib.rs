//! # timber-tracing
//!
//! A [`tracing_subscriber::Layer`] that ships `tracing` events through a
//! Timberlogs [`Client`](timber_core::Client): fields as data (with the
//! client's redaction), the fields of enclosing spans, flows opened by
//! spans with a `flow` field, errors recorded as `&dyn Error`, and filters
//! that work alone or beside `fmt`. It is built on the core's public
//! [`Client::draft`](timber_core::Client::draft), the path the client's own
//! calls take, so an event costs what a direct call does. The `timber-sdk`
//! facade re-exports it with its `tracing` feature.
//!
//! ```
//! use tracing_subscriber::layer::SubscriberExt;
//! use timber_core::Client;
//! use timber_tracing::TimberLayer;
//! use timber_transport_mock::MockTransport;
//!
//! let mock = MockTransport::new();
//! let client = Client::builder().source("shop").api_key("k").transport(mock.clone()).build()?;
//! let subscriber = tracing_subscriber::registry().with(TimberLayer::new(client.clone()));
//! tracing::subscriber::with_default(subscriber, || tracing::info!(items = 3, "cart loaded"));
//! client.flush()?;
//! assert_eq!(mock.records()[0].data.as_ref().unwrap()["items"], 3);
//! # Ok::<(), timber_core::Error>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod event;
mod filter;
mod layer;
mod span;

pub use filter::TimberFilter;
pub use layer::TimberLayer;

/// The code blocks of the README, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
