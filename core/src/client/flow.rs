//! Flows: related records with one id and sequential step indices.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use crate::client::Client;
use crate::record::flow_id::{flow_span_id, flow_trace_id};
use crate::record::trace_context::TraceContext;

/// A multi-step process whose records share a `flowId` and carry
/// `stepIndex` 0, 1, 2, ... A record dropped by `min_level` consumes no
/// step. Clones share the step counter, and a flow can be used from many
/// threads at once: indices are never duplicated or skipped, and queue
/// order is step order.
///
/// ```
/// # #[path = "../../tests/double/mod.rs"] mod double;
/// # use double::MockTransport;
/// use timber_core::{Client, Level};
///
/// let mock = MockTransport::new();
/// let client = Client::builder()
///     .source("shop").api_key("k").min_level(Level::Info)
///     .transport(mock.clone()).build()?;
///
/// let flow = client.flow("checkout")?;
/// flow.info("cart loaded", (), None)
///     .debug("filtered: consumes no step", (), None)
///     .info("payment accepted", (), None)
///     .info("order placed", (), None);
/// client.flush()?;
///
/// let steps: Vec<_> = mock.by_flow(flow.id()).iter().map(|r| r.step_index.unwrap()).collect();
/// assert_eq!(steps, [0, 1, 2]);
/// # Ok::<(), timber_core::Error>(())
/// ```
#[derive(Clone)]
pub struct Flow {
    client: Client,
    name: Arc<str>,
    id: Arc<str>,
    next_step: Arc<AtomicU32>,
    /// The trace it joined: the span it was started in, or the caller's.
    trace: Option<TraceContext>,
}

impl fmt::Debug for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Flow")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("next_step", &self.next_step())
            .field("trace", &self.trace)
            .finish()
    }
}

impl Flow {
    /// A flow in the trace of the span it is started in, if any.
    pub(crate) fn new(client: Client, name: Arc<str>, id: Arc<str>) -> Self {
        Flow {
            client,
            name,
            id,
            next_step: Arc::new(AtomicU32::new(0)),
            trace: TraceContext::current(),
        }
    }

    /// The same flow in `trace` (an incoming request's).
    pub(crate) fn in_trace(mut self, trace: Option<TraceContext>) -> Self {
        self.trace = trace.or(self.trace);
        self
    }

    /// The trace its records belong to: the one it was started in (a span
    /// with an OpenTelemetry context, with the `opentelemetry` feature) or
    /// continues ([`Client::flow_continuing`]); `None` for a flow of its
    /// own, whose records OTLP places in the trace [`flow_trace_id`]
    /// derives from its id.
    ///
    /// [`flow_trace_id`]: crate::record::flow_trace_id
    pub fn trace_context(&self) -> Option<TraceContext> {
        self.trace
    }

    /// A W3C `traceparent` header for a request this flow makes, so that
    /// the service it calls continues the same trace: the trace it belongs
    /// to, or for a flow of its own, the trace derived from its id (sampled)
    /// with a span id derived from it too.
    ///
    /// ```
    /// # #[path = "../../tests/double/mod.rs"] mod double;
    /// # use double::MockTransport;
    /// use timber_core::Client;
    ///
    /// let client = Client::builder().source("s").api_key("k").transport(MockTransport::new()).build()?;
    /// let incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    /// let flow = client.flow_continuing("checkout", Some(incoming))?;
    /// assert_eq!(flow.traceparent(), incoming);
    /// let own = client.flow("import")?;
    /// assert!(own.traceparent().starts_with("00-"));
    /// # Ok::<(), timber_core::Error>(())
    /// ```
    pub fn traceparent(&self) -> String {
        let own = || {
            TraceContext::new(flow_trace_id(&self.id), flow_span_id(&self.id), 1)
                .expect("flow ids hash to non-zero ids")
        };
        self.trace.unwrap_or_else(own).to_string()
    }

    /// The flow id (`checkout-a1b2c3d4`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The name the flow was created with.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The step index the next accepted record will carry.
    pub fn next_step(&self) -> u32 {
        self.next_step.load(Ordering::Relaxed)
    }

    /// The client this flow logs through.
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub(crate) fn shared_id(&self) -> Arc<str> {
        self.id.clone()
    }

    pub(crate) fn steps(&self) -> &AtomicU32 {
        &self.next_step
    }
}
