//! The client works from a plain thread and under any executor, and its
//! async methods never deadlock a current-thread runtime.

mod common;

use std::time::Duration;

use timber_core::mock::{Fault, MockTransport};
use timber_core::RawFormat;

async fn scenario(mock: &MockTransport) {
    let (client, errors) = common::client(mock);
    // A retry on the way exercises the worker's backoff and the async timer.
    mock.fail_next(1, Fault::Status(503));
    client.info("from async", (), None);
    client.flush_async().await.unwrap();
    let flow = client.flow_async("job").await.unwrap();
    flow.info("step", (), None);
    client
        .ingest_raw_async("a line", RawFormat::Text, None)
        .await
        .unwrap();
    client.disconnect_async().await.unwrap();
    assert_eq!(mock.count(), 2);
    assert_eq!(mock.raw_ingestions().len(), 1);
    assert!(errors.all().is_empty(), "{:?}", errors.messages());
}

#[test]
fn plain_sync_main_without_a_runtime() {
    let mock = MockTransport::new();
    let (client, _) = common::client(&mock);
    client.info("sync", (), None);
    client.flush().unwrap();
    client.ingest_raw("x", RawFormat::Text, None).unwrap();
    client.disconnect().unwrap();
    assert_eq!(mock.count(), 1);
}

#[test]
fn tokio_multi_thread_runtime() {
    let mock = MockTransport::new();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(scenario(&mock));
}

#[test]
fn tokio_current_thread_runtime_does_not_deadlock() {
    let mock = MockTransport::new();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(scenario(&mock));
}

#[test]
fn sync_calls_and_drop_inside_a_current_thread_runtime() {
    let mock = MockTransport::new();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (client, _) = common::client(&mock);
        client.info("blocking flush inside async", (), None);
        client.flush().unwrap();
        client.info("flushed by drop", (), None);
        drop(client);
    });
    assert_eq!(mock.count(), 2);
}

#[test]
fn futures_executor() {
    let mock = MockTransport::new();
    futures::executor::block_on(scenario(&mock));
}

#[test]
fn many_tasks_share_one_client() {
    let mock = MockTransport::new();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (client, _) = common::client(&mock);
    rt.block_on(async {
        let tasks: Vec<_> = (0..8)
            .map(|t| {
                let client = client.clone();
                tokio::spawn(async move {
                    for i in 0..100 {
                        client.info(format!("t{t}-{i}"), (), None);
                        if i % 10 == 0 {
                            tokio::time::sleep(Duration::from_millis(1)).await;
                        }
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        client.flush_async().await.unwrap();
    });
    assert_eq!(mock.count(), 800);
}
