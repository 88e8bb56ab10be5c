//! The client's worker runs below the application's threads by default
//! (Linux: the main thread's nice value plus 10), or as the thread that
//! built it with `ThreadPriority::Normal`.
#![cfg(target_os = "linux")]

use std::sync::{Arc, Mutex};

use timber_core::{
    async_trait, Batch, Client, Endpoint, ThreadPriority, Transport, TransportError,
};

/// The nice value of a thread, from `/proc` (field 19 of its `stat`).
fn nice_of(stat_path: &str) -> i32 {
    let stat = std::fs::read_to_string(stat_path).expect("stat");
    let after_name = &stat[stat.rfind(')').expect("name") + 2..];
    after_name
        .split(' ')
        .nth(16)
        .expect("nice")
        .parse()
        .expect("number")
}

/// Notes the nice value of the thread that sends (the worker).
#[derive(Clone, Default)]
struct SeenFrom(Arc<Mutex<Vec<i32>>>);

#[async_trait]
impl Transport for SeenFrom {
    async fn send_batch(&self, _to: &Endpoint, _batch: &Batch) -> Result<(), TransportError> {
        self.0
            .lock()
            .unwrap()
            .push(nice_of("/proc/thread-self/stat"));
        Ok(())
    }
}

fn worker_nice(priority: Option<ThreadPriority>) -> i32 {
    let seen = SeenFrom::default();
    let mut builder = Client::builder()
        .source("priority")
        .api_key("k")
        .transport(seen.clone());
    if let Some(priority) = priority {
        builder = builder.thread_priority(priority);
    }
    let client = builder.build().expect("client");
    client.info("one", (), None).flush().expect("flushed");
    let nice = seen.0.lock().unwrap()[0];
    nice
}

#[test]
fn the_worker_runs_below_the_main_thread_by_default() {
    let main = nice_of("/proc/self/stat");
    assert_eq!(worker_nice(None), (main + 10).min(19));
    assert_eq!(
        worker_nice(Some(ThreadPriority::Background)),
        (main + 10).min(19)
    );
}

#[test]
fn normal_leaves_the_worker_as_its_builder() {
    assert_eq!(
        worker_nice(Some(ThreadPriority::Normal)),
        nice_of("/proc/thread-self/stat")
    );
}
