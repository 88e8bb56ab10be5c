//! The client works from a plain thread and under any executor, its async
//! methods never deadlock a current-thread runtime, and dropping it inside
//! an executor (that the client can recognize) never blocks that executor.

mod common;
mod double;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use double::{Fault, MockTransport};
use timber_core::{Client, RawFormat};

async fn scenario(mock: &MockTransport) {
    let (client, errors) = common::client(mock);
    // A retry on the way exercises the worker's backoff and the async timer.
    mock.fail_next(1, Fault::Unavailable);
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

fn in_tokio() -> bool {
    tokio::runtime::Handle::try_current().is_ok()
}

fn in_futures_executor() -> bool {
    futures::executor::enter().is_err()
}

/// A client whose service hangs for an hour and whose shutdown timeout is
/// an hour: a drop that waited would hang the test.
fn hung_client(mock: &MockTransport, check: fn() -> bool) -> Client {
    mock.fail_next(1, Fault::Delay(Duration::from_secs(3_600)));
    let errors = common::Errors::default();
    common::builder(mock, &errors)
        .shutdown_timeout(Duration::from_secs(3_600))
        .in_async_context(check)
        .build()
        .unwrap()
}

/// Drops the last handle (and a guard) inside a task while a ticker task on
/// the same executor keeps counting.
async fn drop_while_ticking(mock: &MockTransport, check: fn() -> bool) -> u64 {
    let client = hung_client(mock, check);
    client.info("stuck behind a hung service", (), None);
    let guarded = hung_client(&MockTransport::new(), check);
    let guard = guarded.shutdown_guard();
    drop(guard);
    drop(guarded);
    drop(client);
    // Returned at once: the executor goes on.
    let ticks = Arc::new(AtomicU64::new(0));
    for _ in 0..5 {
        ticks.fetch_add(1, Ordering::Relaxed);
        futures_timer::Delay::new(Duration::from_millis(1)).await;
    }
    ticks.load(Ordering::Relaxed)
}

#[test]
fn dropping_inside_tokio_current_thread_does_not_block_the_executor() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mock = MockTransport::new();
    let ticker = Arc::new(AtomicU64::new(0));
    let counted = ticker.clone();
    rt.block_on(async {
        let ticking = tokio::spawn(async move {
            loop {
                counted.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        });
        let before = ticker.load(Ordering::Relaxed);
        assert_eq!(drop_while_ticking(&mock, in_tokio).await, 5);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(
            ticker.load(Ordering::Relaxed) > before,
            "the other task ran"
        );
        ticking.abort();
    });
}

#[test]
fn dropping_inside_tokio_multi_thread_and_futures_executor_does_not_block() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mock = MockTransport::new();
    assert_eq!(rt.block_on(drop_while_ticking(&mock, in_tokio)), 5);
    let mock = MockTransport::new();
    assert_eq!(
        futures::executor::block_on(drop_while_ticking(&mock, in_futures_executor)),
        5
    );
}

#[test]
fn a_drop_that_does_not_wait_still_delivers_in_the_background() {
    let mock = MockTransport::new();
    let errors = common::Errors::default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = common::builder(&mock, &errors)
            .in_async_context(in_tokio)
            .build()
            .unwrap();
        for i in 0..100 {
            client.info(format!("m{i}"), (), None);
        }
        drop(client);
    });
    assert!(mock.wait_for_count(100, Duration::from_secs(30)));
}

#[test]
fn flush_timeout_returns_while_delivery_goes_on() {
    let mock = MockTransport::new();
    mock.fail_next(1, Fault::Delay(Duration::from_millis(300)));
    let (client, _) = common::client(&mock);
    client.info("slow", (), None);
    let outcome = client.flush_timeout(Duration::from_millis(10));
    assert!(
        matches!(outcome, Err(timber_core::Error::Timeout { .. })),
        "{outcome:?}"
    );
    assert!(mock.wait_for_count(1, Duration::from_secs(30)));
    client.flush_timeout(Duration::from_secs(30)).unwrap();
}
