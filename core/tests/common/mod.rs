//! Shared helpers of core's integration tests.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::double::MockTransport;
use timber_core::{Client, ClientBuilder, Error, RetryPolicy};

/// A fast retry policy so fault tests run in milliseconds.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        initial_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        ..RetryPolicy::default()
    }
}

/// Collects what `on_error` receives.
#[derive(Clone, Default)]
pub struct Errors(Arc<Mutex<Vec<Error>>>);

impl Errors {
    pub fn all(&self) -> Vec<Error> {
        self.0.lock().unwrap().clone()
    }
    pub fn messages(&self) -> Vec<String> {
        self.all().iter().map(ToString::to_string).collect()
    }
}

/// A builder wired to a mock, collecting errors, with fast retries and a
/// long interval so only explicit flushes or full batches send.
pub fn builder(mock: &MockTransport, errors: &Errors) -> ClientBuilder {
    let sink = errors.clone();
    Client::builder()
        .source("test-app")
        .api_key("tb_test_secret_key_123")
        .retry(fast_retry())
        .flush_interval(Duration::from_secs(3600))
        .on_error(move |e| sink.0.lock().unwrap().push(e.clone()))
        .transport(mock.clone())
}

pub fn client(mock: &MockTransport) -> (Client, Errors) {
    let errors = Errors::default();
    (builder(mock, &errors).build().unwrap(), errors)
}

/// Wraps the mock and remembers the order in which batches were first
/// handed to the transport (by idempotency key), to check delivery order
/// when several batches are in flight.
#[derive(Clone, Default)]
pub struct SendOrder {
    pub mock: MockTransport,
    first_sent: Arc<Mutex<Vec<String>>>,
}

#[timber_core::transport::async_trait]
impl timber_core::transport::Transport for SendOrder {
    async fn send_batch(
        &self,
        endpoint: &timber_core::transport::Endpoint,
        batch: &timber_core::transport::Batch,
    ) -> Result<(), timber_core::transport::TransportError> {
        {
            let mut sent = self.first_sent.lock().unwrap();
            let key = batch.idempotency_key();
            if !sent.iter().any(|k| k == key) {
                sent.push(key.to_owned());
            }
        }
        self.mock.send_batch(endpoint, batch).await
    }
    async fn create_flow(
        &self,
        endpoint: &timber_core::transport::Endpoint,
        name: &str,
    ) -> Result<String, timber_core::transport::TransportError> {
        self.mock.create_flow(endpoint, name).await
    }
    async fn ingest_raw(
        &self,
        endpoint: &timber_core::transport::Endpoint,
        raw: timber_core::transport::RawRequest<'_>,
    ) -> Result<(), timber_core::transport::TransportError> {
        self.mock.ingest_raw(endpoint, raw).await
    }
}

impl SendOrder {
    /// The stored messages, batch by batch in the order the batches were
    /// first sent; and the most batches sent after a batch that were
    /// stored before it.
    pub fn messages_in_send_order(&self) -> (Vec<String>, usize) {
        let sent = self.first_sent.lock().unwrap().clone();
        let stored = self.mock.batches();
        let index = |key: &str| {
            sent.iter()
                .position(|k| k == key)
                .expect("a stored batch was sent")
        };
        let stored_index: Vec<usize> = stored.iter().map(|b| index(b.idempotency_key())).collect();
        let overtaken = stored_index
            .iter()
            .enumerate()
            .map(|(i, mine)| {
                stored_index[..i]
                    .iter()
                    .filter(|other| *other > mine)
                    .count()
            })
            .max()
            .unwrap_or(0);
        let mut in_send_order: Vec<(usize, &timber_core::transport::Batch)> =
            stored_index.iter().copied().zip(&stored).collect();
        in_send_order.sort_by_key(|(i, _)| *i);
        let messages = in_send_order
            .into_iter()
            .flat_map(|(_, b)| {
                b.records()
                    .iter()
                    .map(|r| r.message().to_owned())
                    .collect::<Vec<_>>()
            })
            .collect();
        (messages, overtaken)
    }
}
