//! The transport under every kind of caller: no runtime, tokio
//! current-thread and multi-thread; no deadlock, no panic on drop.

mod common;

use std::time::Duration;

use common::*;
use timber_core::RawFormat;

async fn exercise(server: &timber_ingest_server::IngestServer) {
    let (client, _) = client_for(server, transport_for(server), fast_retry(2));
    client.info("from async", (), None);
    let flow = client.flow_async("async-flow").await.unwrap();
    flow.warn("step", (), None);
    client
        .ingest_raw_async("a line", RawFormat::Text, None)
        .await
        .unwrap();
    client.flush_async().await.unwrap();
    // The sync form, blocking this runtime's thread, must not deadlock.
    client.info("sync flush inside a runtime", (), None);
    client.flush().unwrap();
    client.disconnect_async().await.unwrap();
}

#[test]
fn a_plain_sync_program() {
    let server = https_server();
    let (client, _) = client_for(&server, transport_for(&server), fast_retry(2));
    client.info("sync", (), None);
    let _flow = client.flow("local").unwrap();
    client.ingest_raw("a line", RawFormat::Text, None).unwrap();
    client.disconnect().unwrap();
    assert_eq!(server.summary().records, 1);
}

#[tokio::test(flavor = "current_thread")]
async fn inside_a_current_thread_runtime() {
    let server = https_server();
    let run = exercise(&server);
    tokio::time::timeout(HANG, run).await.expect("deadlock");
    assert_eq!(server.summary().records, 3);
    // Dropping a transport inside a runtime must not panic.
    drop(transport_for(&server));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inside_a_multi_thread_runtime() {
    let server = https_server();
    tokio::time::timeout(HANG, exercise(&server))
        .await
        .expect("deadlock");
    assert_eq!(server.summary().records, 3);
    assert_eq!(server.summary().flows_created, 1);
    drop(transport_for(&server));
}

#[test]
fn a_transport_dropped_mid_request_fails_the_request_not_the_program() {
    let server = https_server();
    server.misbehave(timber_ingest_server::Misbehave::delay(Duration::from_secs(
        2,
    )));
    let transport = transport_for(&server);
    let ep = endpoint(&server);
    let batch = common::batch(&records(1));
    let pending = {
        use timber_core::transport::Transport;
        let t = transport.clone();
        std::thread::spawn(move || futures::executor::block_on(t.send_batch(&ep, &batch)))
    };
    std::thread::sleep(Duration::from_millis(100));
    drop(transport);
    // The clone in the thread keeps the runtime alive: the request completes.
    assert!(pending.join().unwrap().is_ok());
}

/// A thread's nice value and scheduling policy, from `/proc` (fields 19
/// and 41 of its `stat`).
#[cfg(target_os = "linux")]
fn scheduling_of(stat_path: &str) -> (i32, i32) {
    let stat = std::fs::read_to_string(stat_path).expect("stat");
    let fields: Vec<&str> = stat[stat.rfind(')').expect("name") + 2..]
        .split(' ')
        .collect();
    let field = |n: usize| fields[n - 3].parse().expect("number");
    (field(19), field(41))
}

#[cfg(target_os = "linux")]
#[test]
fn the_runtime_threads_run_below_the_application_by_default() {
    use timber_core::ThreadPriority;
    use timber_transport_hyper::{HttpClient, HttpClientBuilder};
    const SCHED_BATCH: i32 = 3;
    let scheduling_on = |builder: HttpClientBuilder| {
        let client = builder.build().expect("client");
        let work = client.run_blocking(|| scheduling_of("/proc/thread-self/stat"));
        futures::executor::block_on(work).expect("ran")
    };
    let main = scheduling_of("/proc/self/stat").0;
    assert_eq!(
        scheduling_on(HttpClient::builder()),
        ((main + 10).min(19), SCHED_BATCH)
    );
    assert_eq!(
        scheduling_on(HttpClient::builder().thread_priority(ThreadPriority::Normal)),
        scheduling_of("/proc/thread-self/stat"),
        "Normal: as the thread that built it"
    );
}
