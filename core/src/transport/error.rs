//! [`TransportError`]: what a failed transport call means to the client.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

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
/// use timber_core::transport::{FailureKind, TransportError};
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
