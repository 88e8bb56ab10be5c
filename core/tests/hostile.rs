//! Whatever the settings, transport faults and callbacks, the client never
//! panics, hangs or aborts: `build()` answers with a client or a
//! `ConfigError`, and a built client logs, flushes and shuts down within
//! the bounds asked of it.

mod common;
mod double;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use double::{Fault, MockTransport};
use proptest::prelude::*;
use timber_core::{Client, Error, LogEntry, OverflowPolicy, RetryPolicy, WeakClient};

/// Generous bound that only a hang would break.
const HANG: Duration = Duration::from_secs(60);

fn duration() -> impl Strategy<Value = Duration> {
    prop::sample::select(vec![
        Duration::ZERO,
        Duration::from_nanos(1),
        Duration::from_millis(1),
        Duration::from_millis(50),
        Duration::from_secs(3_600),
        Duration::MAX,
    ])
}

/// Mostly a sensible value from `range`, sometimes 0 or the largest there is.
fn size(range: std::ops::Range<usize>) -> impl Strategy<Value = usize> {
    prop_oneof![18 => range, 1 => Just(0), 1 => Just(usize::MAX)]
}

fn float() -> impl Strategy<Value = f64> {
    prop::sample::select(vec![-1.0, 0.0, 1.0, 2.0, f64::MAX, f64::INFINITY, f64::NAN])
}

fn retry() -> impl Strategy<Value = RetryPolicy> {
    (
        prop::sample::select(vec![0u32, 1, 3, u32::MAX]),
        duration(),
        float(),
        duration(),
        any::<bool>(),
    )
        .prop_map(
            |(max_retries, initial_delay, multiplier, max_delay, jitter)| RetryPolicy {
                max_retries,
                initial_delay,
                multiplier,
                max_delay,
                jitter,
            },
        )
}

fn overflow() -> impl Strategy<Value = OverflowPolicy> {
    prop_oneof![
        Just(OverflowPolicy::DropNewest),
        Just(OverflowPolicy::DropOldest),
        duration().prop_map(|max_wait| OverflowPolicy::Block { max_wait }),
    ]
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        Just(Fault::Unavailable),
        Just(Fault::Denied),
        Just(Fault::Refused),
        Just(Fault::Connection),
        Just(Fault::LostResponse),
        Just(Fault::Panic),
        Just(Fault::RetryAfter(Duration::MAX)),
        Just(Fault::RetryAfter(Duration::from_millis(1))),
        Just(Fault::Delay(Duration::from_millis(20))),
    ]
}

/// What `on_error` does, besides being called.
#[derive(Clone, Copy, Debug)]
enum Callback {
    Nothing,
    Panic,
    LogThroughClient,
    Flush,
    Disconnect,
}

fn callback() -> impl Strategy<Value = Callback> {
    prop::sample::select(vec![
        Callback::Nothing,
        Callback::Panic,
        Callback::LogThroughClient,
        Callback::Flush,
        Callback::Disconnect,
    ])
}

#[derive(Clone, Debug)]
struct Settings {
    batch_size: usize,
    max_batch_records: Option<usize>,
    max_batch_bytes: usize,
    max_in_flight: usize,
    queue_capacity: usize,
    queue_max_bytes: usize,
    flush_interval: Duration,
    shutdown_timeout: Duration,
    retry: RetryPolicy,
    overflow: OverflowPolicy,
}

fn settings() -> impl Strategy<Value = Settings> {
    (
        (
            size(1..50),
            prop::option::of(size(50..2_000)),
            size((16 << 10)..(2 << 20)),
            size(1..9),
        ),
        (
            size(50..100_000),
            size((2 << 20)..(100 << 20)),
            duration(),
            duration(),
        ),
        (retry(), overflow()),
    )
        .prop_map(
            |(
                (batch_size, max_batch_records, max_batch_bytes, max_in_flight),
                (queue_capacity, queue_max_bytes, flush_interval, shutdown_timeout),
                (retry, overflow),
            )| Settings {
                batch_size,
                max_batch_records,
                max_batch_bytes,
                max_in_flight,
                queue_capacity,
                queue_max_bytes,
                flush_interval,
                shutdown_timeout,
                retry,
                overflow,
            },
        )
}

fn build(s: &Settings, mock: &MockTransport, on_error: Callback) -> Result<Client, Error> {
    let weak: Arc<Mutex<Option<WeakClient>>> = Arc::default();
    let inner = weak.clone();
    let mut builder = Client::builder()
        .source("hostile")
        .api_key("tb_test_hostile")
        .batch_size(s.batch_size)
        .max_batch_bytes(s.max_batch_bytes)
        .max_in_flight(s.max_in_flight)
        .queue_capacity(s.queue_capacity)
        .queue_max_bytes(s.queue_max_bytes)
        .flush_interval(s.flush_interval)
        .shutdown_timeout(s.shutdown_timeout)
        .retry(s.retry.clone())
        .overflow(s.overflow)
        .on_error(move |_| {
            let client = inner.lock().unwrap().as_ref().and_then(WeakClient::upgrade);
            match (on_error, client) {
                (Callback::Panic, _) => panic!("a callback that panics"),
                (Callback::LogThroughClient, Some(c)) => {
                    c.warn("reporting an error", (), None);
                }
                (Callback::Flush, Some(c)) => {
                    let _ = c.flush_timeout(Duration::from_millis(10));
                }
                (Callback::Disconnect, Some(c)) => {
                    let _ = c.disconnect_timeout(Duration::from_millis(10));
                }
                _ => {}
            }
        })
        .transport(mock.clone());
    if let Some(max) = s.max_batch_records {
        builder = builder.max_batch_records(max);
    }
    let client = builder.build()?;
    *weak.lock().unwrap() = Some(client.downgrade());
    Ok(client)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn no_setting_fault_or_callback_panics_hangs_or_aborts(
        s in settings(),
        faults in prop::collection::vec(fault(), 0..6),
        on_error in callback(),
        records in 0usize..60,
    ) {
        let mock = MockTransport::new();
        for f in faults {
            mock.push_fault(f);
        }
        let started = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let client = match build(&s, &mock, on_error) {
                Ok(client) => client,
                Err(Error::Config(_)) => return None,
                Err(other) => panic!("build failed with a non-configuration error: {other}"),
            };
            for i in 0..records {
                client.info(format!("m{i}"), (), None);
                let _ = client.try_log(LogEntry::new(timber_core::Level::Warn, ""));
            }
            let _ = client.flush_timeout(Duration::from_millis(50));
            let _ = client.disconnect_timeout(Duration::from_millis(50));
            let stats = client.stats();
            drop(client);
            Some(stats)
        }));
        prop_assert!(outcome.is_ok(), "a panic escaped the client");
        prop_assert!(started.elapsed() < HANG, "hung for {:?}", started.elapsed());
        if let Ok(Some(stats)) = outcome {
            prop_assert_eq!(
                stats.accepted + stats.restored,
                stats.sent + stats.pending + stats.dropped + stats.lost + stats.spooled,
                "{:?}", stats
            );
        }
    }
}

#[test]
fn endless_durations_neither_kill_the_worker_nor_abort_a_drop_while_unwinding() {
    let mock = MockTransport::new();
    // A server asking to wait 2^64 seconds, with no cap on the delay.
    mock.fail_next(1, Fault::RetryAfter(Duration::MAX));
    let errors = common::Errors::default();
    let client = common::builder(&mock, &errors)
        .flush_interval(Duration::MAX)
        .shutdown_timeout(Duration::MAX)
        .retry(RetryPolicy {
            max_delay: Duration::MAX,
            ..common::fast_retry()
        })
        .build()
        .unwrap();
    client.info("waits for the server's hint", (), None);
    assert!(matches!(
        client.flush_timeout(Duration::from_millis(50)),
        Err(Error::Timeout { .. })
    ));
    // The worker is alive: a shutdown with a deadline delivers the record,
    // its wait cut to fit.
    client.disconnect_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(mock.count(), 1);

    // Dropped during a panic's unwinding, with an endless shutdown timeout.
    let mock = MockTransport::new();
    let unwound = catch_unwind(AssertUnwindSafe(|| {
        let client = common::builder(&mock, &errors)
            .shutdown_timeout(Duration::MAX)
            .build()
            .unwrap();
        client.info("logged before the panic", (), None);
        panic!("the program panics while holding the client");
    }));
    assert!(unwound.is_err());
    assert_eq!(mock.count(), 1, "the drop during unwinding delivered");
}

#[test]
fn big_records_are_bounded_by_bytes_not_only_by_count() {
    let mock = MockTransport::new();
    // The service hangs: nothing leaves the queue.
    mock.fail_next(1, Fault::Delay(Duration::from_secs(3_600)));
    let errors = common::Errors::default();
    let client = common::builder(&mock, &errors)
        .overflow(OverflowPolicy::DropNewest)
        .max_in_flight(1)
        .shutdown_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let half_a_mib = serde_json::json!({"blob": "x".repeat(512 << 10)});
    for _ in 0..300 {
        client.info("big", &half_a_mib, None);
    }
    let stats = client.stats();
    // 64 MiB of queue holds about 128 of them, plus what the worker took
    // (at most 1 MiB a request: one such record each).
    assert!(stats.pending < 140, "{stats:?}");
    assert_eq!(stats.accepted, 300);
    assert_eq!(stats.dropped + stats.pending, 300, "{stats:?}");

    // A record larger than a request may be is refused when logged.
    let whole_mib = serde_json::json!({"blob": "x".repeat(1 << 20)});
    let refused = client.try_log(LogEntry {
        data: whole_mib.as_object().cloned(),
        ..LogEntry::new(timber_core::Level::Info, "too big")
    });
    assert!(
        matches!(&refused, Err(Error::Validation(v)) if v.field == "record"),
        "{refused:?}"
    );
}

#[test]
fn an_on_error_that_blocks_forever_does_not_stop_delivery_or_flush() {
    let mock = MockTransport::new();
    let (_release, blocked) = std::sync::mpsc::channel::<()>();
    let blocked = Mutex::new(blocked);
    let client = Client::builder()
        .api_key("k")
        .source("hostile")
        .retry(RetryPolicy::none())
        .on_error(move |_| {
            let _ = blocked.lock().unwrap().recv();
        })
        .transport(Arc::new(mock.clone()))
        .build()
        .unwrap();
    // Each refused batch is an error for the callback, which never returns.
    for round in 0..5 {
        mock.fail_next(1, Fault::Denied);
        client.info(format!("refused {round}"), (), None);
        assert!(client.flush().is_err(), "the failure is the flush's answer");
        client.info(format!("delivered {round}"), (), None);
        client.flush().unwrap();
    }
    // A denied batch is held and goes again with the next flush: all ten.
    assert_eq!(mock.records().len(), 10);
    assert_eq!(client.stats().lost, 0);
    drop(client);
}
