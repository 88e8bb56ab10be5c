//! A program that ends in a panic, for the test that builds it with
//! `panic = "abort"` (`core/tests/panic_abort.rs`): what its two clients
//! queued reaches their transport (a file of messages) before the abort,
//! although only one of them is the panic hook's.
//!
//! `cargo run -p timber-core --example panic_abort -- OUT_FILE`

use std::io::Write;
use std::sync::Mutex;

use timber_core::transport::{async_trait, Batch, Endpoint, Transport, TransportError};
use timber_core::Client;

/// Appends each delivered record's message to a file.
struct ToFile(Mutex<std::fs::File>);

#[async_trait]
impl Transport for ToFile {
    async fn send_batch(&self, _: &Endpoint, batch: &Batch) -> Result<(), TransportError> {
        let mut file = self.0.lock().unwrap();
        for record in batch.records() {
            writeln!(file, "{}", record.message())
                .map_err(|e| TransportError::permanent(e.to_string()))?;
        }
        Ok(())
    }
}

fn client(out: &str, source: &str) -> Client {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(out)
        .expect("the output file");
    Client::builder()
        .source(source)
        .api_key("tb_test_example")
        .transport(ToFile(Mutex::new(file)))
        .build()
        .expect("a client")
}

fn main() {
    let out = std::env::args()
        .nth(1)
        .expect("usage: panic_abort OUT_FILE");
    let hooked = client(&out, "hooked");
    hooked.install_panic_hook();
    let other = client(&out, "other");
    for i in 0..5 {
        hooked.info(format!("record {i}"), (), None);
    }
    other.info("from the other client", (), None);
    panic!("a fatal error");
}
