//! The port and what crosses it: [`Transport`], the [`Batch`] of typed
//! records with its [`Resource`] and idempotency key, the [`Endpoint`]
//! and [`ApiKey`] a call goes to, what a failure means
//! ([`TransportError`], [`FailureKind`]), and the [`RetryPolicy`] the
//! client applies around every call.
//!
//! Adapters implement the port and own their protocol: the encoding of
//! records and the classification of their protocol's answers.

pub(crate) mod api_key;
pub(crate) mod batch;
pub(crate) mod error;
pub(crate) mod port;
pub(crate) mod retry;

/// The unit tests' transport: the double of the integration tests.
#[cfg(test)]
#[path = "../../tests/double/mod.rs"]
pub(crate) mod double;

pub use api_key::ApiKey;
pub use batch::{Batch, Resource};
pub use error::{FailureKind, TransportError};
pub use port::{Endpoint, RawRequest, Transport};
pub use retry::RetryPolicy;

/// Re-exported so transports and tests name the same trait version.
pub use async_trait::async_trait;
