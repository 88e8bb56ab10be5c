//! The port every transport implements.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::{ApiKey, Batch, IngestRawOptions, RawFormat};

/// Where requests go and the key that authenticates them, handed to the
/// transport on every call so that one transport can serve many clients.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// Base URL, without a trailing slash (`https://ingest.example.com`).
    pub base_url: String,
    /// The API key, sent as `X-API-Key`.
    pub api_key: ApiKey,
}

/// A failed transport call: whether it is worth retrying, the HTTP status
/// when there is one, and the server's `Retry-After` hint.
///
/// ```
/// use std::time::Duration;
/// use timber_core::TransportError;
/// let e = TransportError::status(503, "unavailable").with_retry_after(Duration::from_secs(2));
/// assert!(e.is_retryable());
/// assert_eq!(e.http_status(), Some(503));
/// assert!(!TransportError::status(400, "bad request").is_retryable());
/// ```
#[derive(Clone)]
pub struct TransportError {
    retryable: bool,
    /// The service refused the content itself (not the request).
    refused: bool,
    status: Option<u16>,
    retry_after: Option<Duration>,
    message: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl TransportError {
    /// A failure worth retrying (connection refused, reset, timeout...).
    pub fn retryable(message: impl Into<String>) -> Self {
        Self::new(true, None, message)
    }

    /// A failure that will not go away by retrying (bad certificate, bad request...).
    pub fn permanent(message: impl Into<String>) -> Self {
        Self::new(false, None, message)
    }

    /// An HTTP error status: 408, 429 and 5xx are retryable, 400, 413 and
    /// 422 refuse the content, the rest are permanent.
    pub fn status(status: u16, message: impl Into<String>) -> Self {
        let retryable = matches!(status, 408 | 429 | 500..=599);
        TransportError {
            refused: matches!(status, 400 | 413 | 422),
            ..Self::new(retryable, Some(status), message)
        }
    }

    /// The service refused the content: the client halves a refused batch
    /// until the records it refuses are isolated, and gives those up.
    pub fn refused(message: impl Into<String>) -> Self {
        TransportError {
            refused: true,
            ..Self::new(false, None, message)
        }
    }

    fn new(retryable: bool, status: Option<u16>, message: impl Into<String>) -> Self {
        TransportError {
            retryable,
            refused: false,
            status,
            retry_after: None,
            message: message.into(),
            source: None,
        }
    }

    /// Adds the server's retry-after hint.
    pub fn with_retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }

    /// Adds the underlying cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// Whether a retry may succeed.
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }

    /// Whether the service refused the content itself.
    pub fn is_refused(&self) -> bool {
        self.refused
    }

    /// The HTTP status, when the server answered.
    pub fn http_status(&self) -> Option<u16> {
        self.status
    }

    /// How long the server asked to wait before retrying.
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
            .field("retryable", &self.retryable)
            .field("refused", &self.refused)
            .field("status", &self.status)
            .field("retry_after", &self.retry_after)
            .field("message", &self.message)
            .field("source", &self.source.as_ref().map(|s| s.to_string()))
            .finish()
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(status) = self.status {
            write!(f, "HTTP {status}: ")?;
        }
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

/// A raw ingestion request: the body, its format and the query options.
#[derive(Clone, Copy, Debug)]
pub struct RawRequest<'a> {
    /// The raw text.
    pub body: &'a str,
    /// Its format (sets `format=` and `Content-Type`).
    pub format: RawFormat,
    /// Defaults for records that lack them.
    pub options: &'a IngestRawOptions,
    /// The same on every attempt to send this body, so that a service that
    /// honours it stores the body once even when an answer was lost.
    pub idempotency_key: &'a str,
}

/// The port between the runtime-agnostic core and the network.
///
/// A transport only carries requests: checking raw bodies before they are
/// sent is the client's job ([`ClientBuilder::raw_validator`](crate::ClientBuilder::raw_validator)),
/// so a transport needs no parser.
///
/// The client calls it from its own worker thread (through a minimal
/// executor) and, for the `_async` methods, from the caller's executor, so an
/// implementation must not assume any particular async runtime is driving it.
///
/// A custom transport, for example one that writes batches to stdout:
///
/// ```
/// use async_trait::async_trait;
/// use timber_core::{Batch, Endpoint, RawRequest, Transport, TransportError};
///
/// struct Stdout;
///
/// #[async_trait]
/// impl Transport for Stdout {
///     async fn send_batch(&self, _: &Endpoint, batch: &Batch) -> Result<(), TransportError> {
///         println!("{}", String::from_utf8_lossy(batch.body()));
///         Ok(())
///     }
///     async fn create_flow(&self, _: &Endpoint, name: &str) -> Result<String, TransportError> {
///         Ok(format!("{name}-00000000"))
///     }
///     async fn ingest_raw(&self, _: &Endpoint, raw: RawRequest<'_>) -> Result<(), TransportError> {
///         println!("{}", raw.body);
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
    /// `POST /v1/logs` with `{"logs":[...]}`.
    async fn send_batch(&self, endpoint: &Endpoint, batch: &Batch) -> Result<(), TransportError>;

    /// `POST /v1/flows` with `{"name":..}`; returns the server's flow id.
    async fn create_flow(&self, endpoint: &Endpoint, name: &str) -> Result<String, TransportError>;

    /// `POST /v1/logs?format=..` with the raw body.
    async fn ingest_raw(
        &self,
        endpoint: &Endpoint,
        raw: RawRequest<'_>,
    ) -> Result<(), TransportError>;
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
