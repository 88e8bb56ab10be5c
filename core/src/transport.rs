//! The port every transport implements.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::{ApiKey, Batch, IngestRawOptions, RawFormat};

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

/// What a failed transport call means to the client; each transport maps
/// its own protocol onto it (the hyper transport, HTTP statuses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureKind {
    /// Worth trying again later (unreachable, timed out, overloaded), after
    /// [`TransportError::retry_after`] if the service said how long.
    Retry,
    /// The service refused the content itself: the client halves a refused
    /// batch until the records it refuses are isolated, and gives those up.
    Refused,
    /// Will not succeed by trying again now (unauthorized, a certificate
    /// that does not verify, a misconfiguration): the batch is kept and
    /// tried again at the next interval or flush.
    Permanent,
}

/// A failed transport call: what it means ([`FailureKind`]), the service's
/// hint of when to try again, and a description.
///
/// ```
/// use std::time::Duration;
/// use timber_core::{FailureKind, TransportError};
/// let e = TransportError::retryable("unavailable").with_retry_after(Duration::from_secs(2));
/// assert!(e.is_retryable());
/// assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
/// assert_eq!(TransportError::refused("too large").kind(), FailureKind::Refused);
/// ```
#[derive(Clone)]
pub struct TransportError {
    kind: FailureKind,
    retry_after: Option<Duration>,
    message: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl TransportError {
    /// A failure worth retrying (connection refused, reset, timeout,
    /// overload).
    pub fn retryable(message: impl Into<String>) -> Self {
        Self::new(FailureKind::Retry, message)
    }

    /// The service refused the content: the client halves the batch until
    /// the records it refuses are isolated, and gives those up.
    pub fn refused(message: impl Into<String>) -> Self {
        Self::new(FailureKind::Refused, message)
    }

    /// A failure that will not go away by retrying now (unauthorized, bad
    /// certificate, misconfiguration).
    pub fn permanent(message: impl Into<String>) -> Self {
        Self::new(FailureKind::Permanent, message)
    }

    fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        TransportError {
            kind,
            retry_after: None,
            message: message.into(),
            source: None,
        }
    }

    /// Adds the service's hint of when to try again (a retryable failure).
    pub fn with_retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }

    /// Adds the underlying cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// What the failure means to the client.
    pub fn kind(&self) -> FailureKind {
        self.kind
    }

    /// Whether a retry may succeed.
    pub fn is_retryable(&self) -> bool {
        self.kind == FailureKind::Retry
    }

    /// Whether the service refused the content itself.
    pub fn is_refused(&self) -> bool {
        self.kind == FailureKind::Refused
    }

    /// How long the service asked to wait before trying again.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// The description, without the cause.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportError")
            .field("kind", &self.kind)
            .field("retry_after", &self.retry_after)
            .field("message", &self.message)
            .field("source", &self.source.as_ref().map(|s| s.to_string()))
            .finish()
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
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
/// The client hands a transport batches of records, in order, and tells it
/// nothing of any wire format: the transport encodes a [`Batch`] (whose
/// records are held as JSON objects, the records' own serialization) as its
/// protocol wants, and maps its protocol's failures onto [`FailureKind`].
/// Only [`send_batch`](Self::send_batch) is required: flows get a local id
/// and raw bodies are refused unless the transport does better.
///
/// The client calls it from its own worker thread (through a minimal
/// executor), several batches at once, and, for the `_async` methods, from
/// the caller's executor, so an implementation must not assume any
/// particular async runtime is driving it.
///
/// A transport that writes records to stdout, one JSON object a line:
///
/// ```
/// use async_trait::async_trait;
/// use timber_core::{Batch, Endpoint, Transport, TransportError};
///
/// struct Stdout;
///
/// #[async_trait]
/// impl Transport for Stdout {
///     async fn send_batch(&self, _: &Endpoint, batch: &Batch) -> Result<(), TransportError> {
///         for record in batch.raw_records() {
///             println!("{}", String::from_utf8_lossy(record));
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
    /// the same batch carries the same [`Batch::idempotency_key`].
    async fn send_batch(&self, endpoint: &Endpoint, batch: &Batch) -> Result<(), TransportError>;

    /// Starts a flow named `name` and returns its id (at most 50
    /// characters). By default, a local id `{name}-{8 random [a-z0-9]}`,
    /// as [`Client::flow`](crate::Client::flow) makes.
    async fn create_flow(&self, endpoint: &Endpoint, name: &str) -> Result<String, TransportError> {
        let _ = endpoint;
        Ok(crate::flow::local_id(name))
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
