//! `flush` and `disconnect` return the client, so that calls chain (sync
//! and async), and still return the error when there is one.

mod common;
mod double;

use double::{Fault, MockTransport};
use timber_core::{Client, Error, Level};

#[test]
fn flush_and_disconnect_chain_with_logging_calls() {
    let mock = MockTransport::new();
    let (client, _errors) = common::client(&mock);
    let stats = client
        .info("one", (), None)
        .flush()
        .expect("delivered")
        .warn("two", (), None)
        .flush()
        .expect("delivered")
        .error("three", (), None)
        .disconnect()
        .expect("delivered")
        .stats();
    assert_eq!(stats.sent, 3);
    let levels: Vec<Level> = mock.records().iter().map(|r| r.level).collect();
    assert_eq!(levels, [Level::Info, Level::Warn, Level::Error]);
}

#[test]
fn a_failed_flush_still_returns_its_error() {
    let mock = MockTransport::new();
    let (client, _errors) = common::client(&mock);
    mock.fail_next(10, Fault::Unavailable);
    let outcome: Result<&Client, Error> = client.info("kept", (), None).flush();
    assert!(
        matches!(outcome, Err(Error::Undelivered { records: 1, .. })),
        "{outcome:?}"
    );
}

#[test]
fn the_async_forms_chain_too() {
    let mock = MockTransport::new();
    let (client, _errors) = common::client(&mock);
    futures::executor::block_on(async {
        client
            .info("a", (), None)
            .flush_async()
            .await
            .expect("delivered")
            .info("b", (), None)
            .disconnect_async()
            .await
            .expect("delivered")
            .stats()
    });
    assert_eq!(mock.count(), 2);
}
