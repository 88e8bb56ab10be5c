//! The port every transport implements: [`Transport`], a small trait of
//! one required method, called with typed records and no runtime.

use std::sync::Arc;

use async_trait::async_trait;

use crate::record::raw::{IngestRawOptions, RawFormat};
use crate::transport::api_key::ApiKey;
use crate::transport::batch::Batch;
use crate::transport::error::TransportError;

/// Where records go and the key that authenticates them, handed to the
/// transport on every call so that one transport can serve many clients.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// The service's base URL, without a trailing slash
    /// (`https://ingest.example.com`).
    pub base_url: String,
    /// The API key, for the transport to authenticate with.
    pub api_key: ApiKey,
}

/// A raw body to ingest: its text, its format, and the defaults of the
/// records in it.
#[derive(Clone, Copy, Debug)]
pub struct RawRequest<'a> {
    /// The raw text.
    pub body: &'a str,
    /// Its format.
    pub format: RawFormat,
    /// Defaults for records that lack them.
    pub options: &'a IngestRawOptions,
    /// The same on every attempt to send this body, so that a service that
    /// honours it stores the body once even when an answer was lost.
    pub idempotency_key: &'a str,
}

/// The port between the core and whatever carries records away.
///
/// The client hands a transport batches of typed records, in order: each
/// [`Batch`] holds its [`Record`](crate::Record)s (their data as JSON
/// text), the client's [`Resource`](crate::transport::Resource) (source,
/// environment, version) and an idempotency key. The transport owns its
/// wire format (the Timberlogs JSON body, OTLP protobuf...) and maps its
/// protocol's failures onto [`FailureKind`](crate::transport::FailureKind).
/// Only [`send_batch`](Self::send_batch) is required: flows get a local id
/// and raw bodies are refused unless the transport does better.
///
/// The client calls it from its own worker thread (through a minimal
/// executor), several batches at once, so an implementation must not
/// assume any particular async runtime is driving it. A failure that is
/// [`refused`](TransportError::refused) makes the client halve the batch
/// until the records at fault are isolated; a retryable one is retried
/// with backoff, after its [`retry_after`](TransportError::retry_after).
///
/// A transport that writes records to stdout, one line each:
///
/// ```
/// use timber_core::transport::{async_trait, Batch, Endpoint, Transport, TransportError};
///
/// struct Stdout;
///
/// #[async_trait]
/// impl Transport for Stdout {
///     async fn send_batch(&self, _: &Endpoint, batch: &Batch) -> Result<(), TransportError> {
///         let source = &batch.resource().source;
///         for record in batch.records() {
///             println!("{source} {} {}", record.level(), record.message());
///         }
///         Ok(())
///     }
/// }
///
/// let client = timber_core::Client::builder()
///     .source("example")
///     .api_key("tb_test_key")
///     .transport(Stdout)
///     .build()
///     .unwrap();
/// client.info("to stdout", (), None);
/// ```
#[async_trait]
pub trait Transport: Send + Sync + 'static {
    /// Delivers a batch of records, whole or not at all; every attempt at
    /// the same batch carries the same [`Batch::idempotency_key`]. Called
    /// again for the same batch after a retryable failure, and with halves
    /// of it after a refusal.
    async fn send_batch(&self, endpoint: &Endpoint, batch: &Batch) -> Result<(), TransportError>;

    /// Starts a flow named `name` and returns its id (at most 50
    /// characters). By default, a local id `{name}-{8 random [a-z0-9]}`,
    /// as [`Client::flow`](crate::Client::flow) makes.
    async fn create_flow(&self, endpoint: &Endpoint, name: &str) -> Result<String, TransportError> {
        let _ = endpoint;
        Ok(crate::record::flow_id::local_id(name))
    }

    /// Ingests a raw body. By default, refused: not every destination
    /// takes raw text.
    async fn ingest_raw(
        &self,
        endpoint: &Endpoint,
        raw: RawRequest<'_>,
    ) -> Result<(), TransportError> {
        let _ = (endpoint, raw);
        Err(TransportError::permanent(
            "this transport does not ingest raw bodies",
        ))
    }
}

#[async_trait]
impl<T: Transport + ?Sized> Transport for Arc<T> {
    async fn send_batch(&self, endpoint: &Endpoint, batch: &Batch) -> Result<(), TransportError> {
        (**self).send_batch(endpoint, batch).await
    }
    async fn create_flow(&self, endpoint: &Endpoint, name: &str) -> Result<String, TransportError> {
        (**self).create_flow(endpoint, name).await
    }
    async fn ingest_raw(
        &self,
        endpoint: &Endpoint,
        raw: RawRequest<'_>,
    ) -> Result<(), TransportError> {
        (**self).ingest_raw(endpoint, raw).await
    }
}
