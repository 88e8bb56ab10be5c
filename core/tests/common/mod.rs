//! Shared helpers of core's integration tests.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use timber_core::mock::MockTransport;
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
