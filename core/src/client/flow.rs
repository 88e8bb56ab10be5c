//! Flows: related records with one id and sequential step indices.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use crate::client::Client;

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
}

impl fmt::Debug for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Flow")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("next_step", &self.next_step())
            .finish()
    }
}

impl Flow {
    pub(crate) fn new(client: Client, name: Arc<str>, id: Arc<str>) -> Self {
        Flow {
            client,
            name,
            id,
            next_step: Arc::new(AtomicU32::new(0)),
        }
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
