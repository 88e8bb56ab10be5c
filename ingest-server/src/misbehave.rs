//! Faults the server can be told to inject, for tests.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

/// A fault applied to the next matching requests, before anything else
/// (as a proxy in front of the service would).
///
/// ```
/// use std::time::Duration;
/// use timber_ingest_server::Misbehave;
/// let outage = Misbehave::status(503).retry_after("1").times(2);
/// let slow = Misbehave::delay(Duration::from_secs(2)).on_path("/v1/flows");
/// let hang_up = Misbehave::close();
/// # let _ = (outage, slow, hang_up);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Misbehave {
    pub(crate) action: Action,
    pub(crate) times: u32,
    pub(crate) path: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    Status {
        status: u16,
        retry_after: Option<String>,
    },
    Delay(Duration),
    Close,
    Answer {
        status: u16,
        body: String,
    },
    StallBody,
    DelayAnswer(Duration),
}

impl Misbehave {
    /// Answer with this status (and a short JSON error) instead of handling.
    /// On an OTLP/gRPC call, the gRPC status the gRPC spec maps it to
    /// (400 INVALID_ARGUMENT, 401 UNAUTHENTICATED, 403 PERMISSION_DENIED,
    /// 404 UNIMPLEMENTED, 413 and 429 RESOURCE_EXHAUSTED, 502 to 504
    /// UNAVAILABLE, other 5xx INTERNAL, anything else UNKNOWN).
    pub fn status(status: u16) -> Self {
        Self::new(Action::Status {
            status,
            retry_after: None,
        })
    }

    /// Wait this long, then handle the request normally.
    pub fn delay(delay: Duration) -> Self {
        Self::new(Action::Delay(delay))
    }

    /// Close the connection without answering.
    pub fn close() -> Self {
        Self::new(Action::Close)
    }

    /// Answer with this status and body instead of handling (a service
    /// answering `200 {"success":false}`, or quoting what it was sent).
    pub fn answer(status: u16, body: impl Into<String>) -> Self {
        Self::new(Action::Answer {
            status,
            body: body.into(),
        })
    }

    /// Handle the request normally (a batch is stored), then wait this long
    /// before answering: a client that gave up meanwhile will try again.
    pub fn delay_answer(delay: Duration) -> Self {
        Self::new(Action::DelayAnswer(delay))
    }

    /// Handle the request normally (a batch is stored), send the status and
    /// the start of the answer, and never finish it.
    pub fn stall_body() -> Self {
        Self::new(Action::StallBody)
    }

    fn new(action: Action) -> Self {
        Misbehave {
            action,
            times: 1,
            path: None,
        }
    }

    /// With a status fault, sends this `Retry-After` value (seconds or an HTTP date).
    /// On an OTLP/gRPC call, a value in whole seconds becomes a
    /// `google.rpc.RetryInfo` in the status details (`grpc-status-details-bin`);
    /// an HTTP date is left out.
    pub fn retry_after(mut self, value: impl Into<String>) -> Self {
        if let Action::Status { retry_after, .. } = &mut self.action {
            *retry_after = Some(value.into());
        }
        self
    }

    /// Applies to this many requests (default 1).
    pub fn times(mut self, n: u32) -> Self {
        self.times = n;
        self
    }

    /// Applies only to requests for this path (`/v1/logs`, `/v1/flows`).
    pub fn on_path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }
}

/// Pending faults, applied in the order they were given.
#[derive(Default)]
pub(crate) struct Faults(Mutex<VecDeque<Misbehave>>);

impl Faults {
    pub(crate) fn push(&self, fault: Misbehave) {
        if fault.times > 0 {
            self.lock().push_back(fault);
        }
    }

    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    /// The action for a request to `path`, consuming one use of the first
    /// fault that matches it.
    pub(crate) fn take(&self, path: &str) -> Option<Action> {
        let mut faults = self.lock();
        let i = faults
            .iter()
            .position(|f| f.path.is_none() || f.path.as_deref() == Some(path))?;
        let fault = &mut faults[i];
        fault.times -= 1;
        let action = fault.action.clone();
        if fault.times == 0 {
            faults.remove(i);
        }
        Some(action)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Misbehave>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
