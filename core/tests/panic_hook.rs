//! The panic hook: each panic becomes an error record (message, location,
//! backtrace), delivered before the previous hook runs, and a panic on the
//! SDK's own threads neither deadlocks nor loops.
//!
//! The hook is process-wide: the tests of this file take turns.

mod double;

use std::panic;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::Duration;

use double::{Fault, MockTransport};
use serde_json::json;
use timber_core::hooks::REDACTED;
use timber_core::{Client, Level};

static TURN: Mutex<()> = Mutex::new(());

fn client(mock: &MockTransport) -> Client {
    Client::builder()
        .source("svc")
        .api_key("tb_test_key")
        .flush_interval(Duration::from_secs(3600))
        .batch_size(100)
        .on_error(|_| {})
        .transport(mock.clone())
        .build()
        .unwrap()
}

/// The line of the `panic!` in `crash_with`.
static CRASH_LINE: AtomicU32 = AtomicU32::new(0);

#[inline(never)]
#[rustfmt::skip]
fn crash_with(n: u32) {
    let password = "hunter2";
    CRASH_LINE.store(line!(), Ordering::SeqCst); panic!("order {n} failed (password={password})");
}

#[test]
fn a_panic_becomes_an_error_record_delivered_before_the_previous_hook() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let mock = MockTransport::new();
    // The hook installed before ours: it records how many records the
    // service had received when it ran.
    let seen_by_previous = Arc::new(Mutex::new(Vec::new()));
    let seen = seen_by_previous.clone();
    let probe = mock.clone();
    panic::set_hook(Box::new(move |_| {
        seen.lock()
            .unwrap()
            .push(probe.by_level(Level::Error).len());
    }));
    let client = client(&mock);
    client.install_panic_hook();
    client.info("before", (), None);

    let joined = thread::Builder::new()
        .name("order-worker".into())
        .spawn(|| crash_with(7))
        .unwrap()
        .join();
    assert!(joined.is_err());

    // Delivered (with the record logged before it) before the previous hook ran.
    assert_eq!(*seen_by_previous.lock().unwrap(), [1]);
    assert_eq!(mock.count(), 2);
    let record = mock.by_level(Level::Error).pop().unwrap();
    let location = format!("{}:{}:", file!(), CRASH_LINE.load(Ordering::SeqCst));
    assert!(
        record
            .message
            .starts_with(&format!("panicked at {location}")),
        "{}",
        record.message
    );
    assert!(record
        .message
        .ends_with(": order 7 failed (password=hunter2)"));
    assert_eq!(record.error_name.as_deref(), Some("Panic"));
    let data = record.data.as_ref().unwrap();
    assert_eq!(data["message"], json!("order 7 failed (password=hunter2)"));
    assert_eq!(data["thread"], json!("order-worker"));
    assert!(data["location"].as_str().unwrap().starts_with(&location));
    let stack = record.error_stack.as_deref().unwrap();
    assert!(
        stack.starts_with("Panic: order 7 failed (password=hunter2)\n  at "),
        "{stack}"
    );
    assert!(stack.contains("\n\nBacktrace:\n"), "{stack}");
    assert!(stack.contains("crash_with"), "{stack}");
    assert!(!stack.contains("std::panicking"), "{stack}");

    restore_default_hook_after(&client);
}

#[test]
fn panic_records_go_through_before_send_and_redaction() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let mock = MockTransport::new();
    let client = Client::builder()
        .source("svc")
        .api_key("tb_test_key")
        .redact_key("message")
        .before_send(|mut record| {
            record.tags_mut().push("panic".into());
            Some(record)
        })
        .transport(mock.clone())
        .build()
        .unwrap();
    panic::set_hook(Box::new(|_| {}));
    client.install_panic_hook();
    let _ = thread::spawn(|| crash_with(1)).join();
    let record = mock.last().unwrap();
    assert_eq!(record.tags, ["panic"]);
    assert_eq!(record.data.unwrap()["message"], json!(REDACTED));
    restore_default_hook_after(&client);
}

#[test]
fn a_panic_on_the_sdk_s_worker_neither_deadlocks_nor_is_logged() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let mock = MockTransport::new();
    let previous_ran_on = Arc::new(Mutex::new(Vec::new()));
    let ran = previous_ran_on.clone();
    panic::set_hook(Box::new(move |_| {
        ran.lock()
            .unwrap()
            .push(thread::current().name().map(str::to_owned));
    }));
    let client = client(&mock);
    client.install_panic_hook();
    // The transport panics on the worker thread (which catches it as a
    // failed send): the hook must not wait for the worker it runs on.
    mock.fail_next(1, Fault::Panic);
    client.info("first try panics", (), None);

    let (done_tx, done_rx) = mpsc::channel();
    let flusher = client.clone();
    thread::spawn(move || {
        let first = flusher.flush().map(|_| ());
        let second = flusher.flush().map(|_| ());
        let _ = done_tx.send((first.is_err(), second.is_ok()));
    });
    // Not a timing assertion: only a deadlock would take this long.
    let outcome = done_rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the flush returned (no deadlock)");
    assert_eq!(outcome, (true, true));
    assert_eq!(mock.count(), 1);
    assert!(mock.by_level(Level::Error).is_empty(), "not logged");
    assert_eq!(
        *previous_ran_on.lock().unwrap(),
        [Some("timber-worker".to_owned())]
    );
    restore_default_hook_after(&client);
}

#[test]
fn a_second_install_moves_the_hook_to_the_new_client_without_chaining_twice() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    panic::set_hook(Box::new(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    }));
    let (first, second) = (MockTransport::new(), MockTransport::new());
    let a = client(&first);
    a.install_panic_hook();
    let b = client(&second);
    b.install_panic_hook().install_panic_hook();
    let _ = thread::spawn(|| panic!("once")).join();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(first.count(), 0);
    assert_eq!(second.count(), 1);

    // Once the client is gone, panics only reach the previous hook.
    drop(b);
    let _ = thread::spawn(|| panic!("after the client")).join();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(second.count(), 1);
    restore_default_hook_after(&a);
}

/// Leaves a hook that prints nothing and logs nothing for the next test
/// (the SDK's hook is still chained in front of whatever is set next).
fn restore_default_hook_after(client: &Client) {
    client.flush().unwrap();
    panic::set_hook(Box::new(|_| {}));
}
