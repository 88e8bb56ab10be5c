//! The errors of the client API.

use std::fmt;

use crate::record::data::DataError;
use crate::record::raw::RawFormat;
use crate::record::validate::ValidationError;
use crate::transport::error::TransportError;

/// Invalid configuration, reported by [`ClientBuilder::build`](crate::ClientBuilder::build).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The setting at fault.
    pub field: &'static str,
    /// Why it is invalid.
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration: {}: {}", self.field, self.reason)
    }
}

impl std::error::Error for ConfigError {}

/// Everything the client can report, through a `Result` or through the
/// `on_error` callback.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is invalid.
    Config(ConfigError),
    /// A record breaks a protocol limit; it was not queued.
    Validation(ValidationError),
    /// `data` could not be turned into a JSON object; the record was not queued.
    InvalidData(String),
    /// The queue is at its bound and the record was dropped: returned to
    /// the caller of `try_log`, and reported once when a burst of drops
    /// begins; [`Error::Dropped`] reports the burst's total when it ends.
    QueueFull {
        /// The configured bound.
        capacity: usize,
        /// Records dropped since the burst began.
        dropped: u64,
    },
    /// A burst of drops at the queue bound ended (the queue has room
    /// again, or the client stopped): how many records it dropped.
    Dropped {
        /// Records dropped in the burst.
        records: u64,
        /// The configured bound.
        capacity: usize,
    },
    /// The client was disconnected; nothing more is accepted.
    Closed,
    /// A `flush_timeout` ran out; delivery goes on in the background.
    Timeout {
        /// How long the call waited.
        after: std::time::Duration,
    },
    /// A transport call failed for good (after its retries, or not retryable).
    Transport(TransportError),
    /// A batch failed after every retry; its records are kept queued and
    /// will be sent again on the next flush or interval.
    Undelivered {
        /// Records still waiting.
        records: usize,
        /// The last failure.
        cause: TransportError,
    },
    /// The service refused records as invalid (the batch was halved until
    /// they were isolated); they were dropped and counted as lost.
    Rejected {
        /// Records refused.
        records: usize,
        /// The server's answer.
        cause: TransportError,
    },
    /// Shutdown ended with records neither delivered nor spooled: how many
    /// (the total of the shutdown, reported once); counted as lost.
    Lost {
        /// Records lost.
        records: usize,
        /// Why: the last failure, or `None` when the shutdown timeout ran out.
        cause: Option<TransportError>,
    },
    /// The on-disk spool failed (full, unwritable, or a corrupt file set aside).
    Spool {
        /// What happened.
        reason: String,
    },
    /// A raw body is malformed for its format (checked before sending).
    InvalidRawBody {
        /// The declared format.
        format: RawFormat,
        /// What is wrong, with its position.
        reason: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(e) => e.fmt(f),
            Error::Validation(e) => write!(f, "invalid log record: {e}"),
            Error::InvalidData(e) => write!(f, "invalid log data: {e}"),
            Error::QueueFull { capacity, dropped } => write!(
                f,
                "log queue full ({capacity} records): {dropped} record(s) dropped in this burst"
            ),
            Error::Dropped { records, capacity } => write!(
                f,
                "{records} record(s) dropped at the queue bound ({capacity} records) in a burst that has ended"
            ),
            Error::Closed => f.write_str("the client is disconnected"),
            Error::Timeout { after } => write!(
                f,
                "still delivering after {after:?}; delivery goes on in the background"
            ),
            Error::Transport(e) => write!(f, "transport failed: {e}"),
            Error::Undelivered { records, cause } => write!(
                f,
                "{records} record(s) not delivered after retries, kept for the next attempt: {cause}"
            ),
            Error::Rejected { records, cause } => {
                write!(f, "{records} record(s) refused by the server and dropped: {cause}")
            }
            Error::Lost { records, cause: Some(cause) } => {
                write!(f, "{records} record(s) lost at shutdown: {cause}")
            }
            Error::Lost { records, cause: None } => write!(
                f,
                "{records} record(s) lost at shutdown: the shutdown timeout ran out"
            ),
            Error::Spool { reason } => write!(f, "spool: {reason}"),
            Error::InvalidRawBody { format, reason } => {
                write!(f, "invalid {format} body: {reason}")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Config(e) => Some(e),
            Error::Validation(e) => Some(e),
            Error::Transport(e)
            | Error::Undelivered { cause: e, .. }
            | Error::Rejected { cause: e, .. } => Some(e),
            Error::Lost { cause: Some(e), .. } => Some(e),
            _ => None,
        }
    }
}

impl From<ValidationError> for Error {
    fn from(e: ValidationError) -> Self {
        Error::Validation(e)
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(e)
    }
}

impl From<DataError> for Error {
    fn from(e: DataError) -> Self {
        Error::InvalidData(e.to_string())
    }
}
