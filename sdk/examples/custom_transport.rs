//! Your own transport: implement the `Transport` port (three calls) and give
//! it to the builder. This one writes each batch's records as JSON lines to
//! stdout, a shape a log collector (Vector, Fluent Bit) can pick up.
//!
//! ```sh
//! cargo run --example custom_transport --no-default-features
//! ```
//!
//! It builds without the `https` feature: nothing of hyper, tokio or rustls.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use timber_sdk::transport::{async_trait, Batch, Endpoint, RawRequest, Transport, TransportError};
use timber_sdk::{json, Client};

/// JSON lines on stdout.
#[derive(Default)]
struct JsonLines {
    flows: AtomicU64,
}

#[async_trait]
impl Transport for JsonLines {
    async fn send_batch(&self, _: &Endpoint, batch: &Batch) -> Result<(), TransportError> {
        // The records in the protocol's wire form, with the batch's source,
        // environment and version; `batch.records()` are the typed values.
        let mut out = std::io::stdout().lock();
        for record in batch.log_records() {
            let line = serde_json::to_string(&record)
                .map_err(|e| TransportError::permanent(e.to_string()))?;
            // A closed stdout is worth retrying later, like a network error.
            writeln!(out, "{line}").map_err(|e| TransportError::retryable(e.to_string()))?;
        }
        Ok(())
    }

    async fn create_flow(&self, _: &Endpoint, name: &str) -> Result<String, TransportError> {
        let n = self.flows.fetch_add(1, Ordering::Relaxed);
        Ok(format!("{name}-{n:08}"))
    }

    async fn ingest_raw(&self, _: &Endpoint, raw: RawRequest<'_>) -> Result<(), TransportError> {
        println!("{}", raw.body.trim_end());
        Ok(())
    }
}

use timber_sdk::serde_json;

fn main() -> Result<(), timber_sdk::Error> {
    let client = Client::builder()
        .source("custom-transport")
        .api_key("not-used-by-this-transport")
        .transport(JsonLines::default())
        .build()?;
    client.info("to stdout", json!({ "answer": 42 }), None);
    let flow = futures_lite_block_on(client.flow_async("import"))?;
    flow.info("step one", (), None).info("step two", (), None);
    client.disconnect()?;
    Ok(())
}

/// `flow_async` asks the transport for a flow id; any executor can run it,
/// here the smallest one, a thread that parks until woken.
fn futures_lite_block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};

    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(output) => return output,
            Poll::Pending => std::thread::park(),
        }
    }
}
