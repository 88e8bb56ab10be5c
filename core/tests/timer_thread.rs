//! A synchronous flush parks its thread with a timeout rather than arming a
//! timer: it starts no timer thread, which would run at the priority of the
//! thread that started it (the application's). Alone in its binary: other
//! tests' clients may start one when they shut down.
#![cfg(target_os = "linux")]

use std::time::Duration;

use timber_core::transport::{async_trait, Batch, Endpoint, Transport, TransportError};
use timber_core::Client;

struct Accept;

#[async_trait]
impl Transport for Accept {
    async fn send_batch(&self, _to: &Endpoint, _batch: &Batch) -> Result<(), TransportError> {
        Ok(())
    }
}

/// The names of this process's threads.
fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .expect("tasks")
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .map(|name| name.trim().to_owned())
        .collect()
}

#[test]
fn a_synchronous_flush_starts_no_timer_thread() {
    let client = Client::builder()
        .source("timer")
        .api_key("k")
        .transport(Accept)
        .build()
        .expect("client");
    client.info("one", (), None).flush().expect("flushed");
    client
        .info("two", (), None)
        .flush_timeout(Duration::from_secs(5))
        .expect("flushed");
    let names = thread_names();
    assert!(names.iter().any(|n| n == "timber-worker"), "{names:?}");
    assert!(!names.iter().any(|n| n == "futures-timer"), "{names:?}");
}
