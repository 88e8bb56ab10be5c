//! What the core's benches share.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use timber_core::transport::{async_trait, Batch, Endpoint, Transport, TransportError};

/// Accepts everything at once, so a bench measures the SDK, not a network.
#[derive(Clone, Default)]
pub struct Discard(pub Arc<AtomicU64>);

#[async_trait]
impl Transport for Discard {
    async fn send_batch(&self, _: &Endpoint, batch: &Batch) -> Result<(), TransportError> {
        self.0.fetch_add(batch.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}
