//! Calls the client makes for a caller, beside its batches: a raw body to
//! ingest, a flow to start on the service. The worker sends them through
//! the same delivery as batches (the retry policy, the shutdown deadline,
//! panic containment) and answers the caller when they are done.

use futures_channel::oneshot;

use crate::record::raw::{IngestRawOptions, RawFormat};
use crate::transport::error::TransportError;

pub(crate) enum Request {
    Raw {
        body: String,
        format: RawFormat,
        options: IngestRawOptions,
        /// The same on every attempt.
        idempotency_key: String,
        reply: oneshot::Sender<Result<(), TransportError>>,
    },
    Flow {
        name: String,
        reply: oneshot::Sender<Result<String, TransportError>>,
    },
}
