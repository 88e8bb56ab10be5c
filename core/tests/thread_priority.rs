//! The client's worker runs below the application's threads by default
//! (Linux: the main thread's nice value plus 10, `SCHED_BATCH`), or as the
//! thread that built it with `ThreadPriority::Normal`.
#![cfg(target_os = "linux")]

use std::sync::{Arc, Mutex};

use timber_core::transport::{async_trait, Batch, Endpoint, Transport, TransportError};
use timber_core::{Client, ThreadPriority};

const SCHED_OTHER: i32 = 0;
const SCHED_BATCH: i32 = 3;

/// A thread's nice value and scheduling policy, from `/proc` (fields 19
/// and 41 of its `stat`).
fn scheduling_of(stat_path: &str) -> (i32, i32) {
    let stat = std::fs::read_to_string(stat_path).expect("stat");
    let fields: Vec<&str> = stat[stat.rfind(')').expect("name") + 2..]
        .split(' ')
        .collect();
    let field = |n: usize| fields[n - 3].parse().expect("number");
    (field(19), field(41))
}

fn nice_of(stat_path: &str) -> i32 {
    scheduling_of(stat_path).0
}

/// Notes the nice value and policy of the thread that sends (the worker).
#[derive(Clone, Default)]
struct SeenFrom(Arc<Mutex<Vec<(i32, i32)>>>);

#[async_trait]
impl Transport for SeenFrom {
    async fn send_batch(&self, _to: &Endpoint, _batch: &Batch) -> Result<(), TransportError> {
        self.0
            .lock()
            .unwrap()
            .push(scheduling_of("/proc/thread-self/stat"));
        Ok(())
    }
}

fn worker_scheduling(priority: Option<ThreadPriority>) -> (i32, i32) {
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
    let scheduling = seen.0.lock().unwrap()[0];
    scheduling
}

#[test]
fn the_worker_runs_below_the_main_thread_by_default() {
    let background = ((nice_of("/proc/self/stat") + 10).min(19), SCHED_BATCH);
    assert_eq!(worker_scheduling(None), background);
    assert_eq!(
        worker_scheduling(Some(ThreadPriority::Background)),
        background
    );
}

#[test]
fn normal_leaves_the_worker_as_its_builder() {
    let builder = scheduling_of("/proc/thread-self/stat");
    assert_eq!(builder.1, SCHED_OTHER);
    assert_eq!(worker_scheduling(Some(ThreadPriority::Normal)), builder);
}
