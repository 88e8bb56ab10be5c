//! The client API end to end through the mock transport: every behaviour
//! the seed documents.

mod common;
mod double;

use std::time::Duration;

use double::{Fault, MockTransport};
use serde::Serialize;
use serde_json::json;
use timber_core::record::Violation;
use timber_core::{
    Client, Environment, Error, IngestRawOptions, Level, LogEntry, LogOptions, OverflowPolicy,
    RawFormat,
};

use common::{builder, client, Errors};

#[test]
fn the_four_levels_carry_message_data_tags_and_config_fields() {
    let mock = MockTransport::new();
    let errors = Errors::default();
    let client = builder(&mock, &errors)
        .environment(Environment::Staging)
        .version("2.1.0")
        .dataset("events")
        .build()
        .unwrap();
    let before = timber_core::now_millis();
    client
        .debug("d", (), None)
        .info("i", json!({"user": "alice", "n": 3}), None)
        .warn("w", (), LogOptions::tags(["slow", "db"]))
        .error(
            "e",
            json!({"code": 500}),
            LogOptions::new().request_id("req-1"),
        );
    client.flush().unwrap();

    let records = mock.records();
    let levels: Vec<_> = records.iter().map(|r| r.level).collect();
    assert_eq!(levels, Level::ALL);
    for r in &records {
        assert_eq!(r.source.as_deref(), Some("test-app"));
        assert_eq!(r.environment, Some(Environment::Staging));
        assert_eq!(r.version.as_deref(), Some("2.1.0"));
        assert_eq!(r.dataset.as_deref(), Some("events"));
        assert!(r.timestamp.unwrap() >= before);
    }
    assert_eq!(records[1].data.as_ref().unwrap()["user"], "alice");
    assert_eq!(records[2].tags, ["slow", "db"]);
    assert_eq!(records[3].request_id.as_deref(), Some("req-1"));
    assert!(errors.all().is_empty());
}

#[test]
fn data_accepts_any_serializable_object_and_refuses_other_json() {
    #[derive(Serialize)]
    struct Order {
        id: u32,
        items: Vec<&'static str>,
    }
    let mock = MockTransport::new();
    let (client, errors) = client(&mock);
    client.info(
        "order",
        Order {
            id: 7,
            items: vec!["a", "b"],
        },
        None,
    );
    client.info("map", std::collections::BTreeMap::from([("k", 1)]), None);
    client.info("not an object", "just a string", None);
    client.info("array", [1, 2, 3], None);
    client.flush().unwrap();

    let records = mock.records();
    assert_eq!(records.len(), 2);
    assert_eq!(
        records[0].data.as_ref().unwrap()["items"],
        json!(["a", "b"])
    );
    assert_eq!(
        errors.messages(),
        [
            "invalid log data: data must be a JSON object, got a string",
            "invalid log data: data must be a JSON object, got an array"
        ]
    );
    assert_eq!(client.stats().invalid, 2);
}

#[derive(Debug)]
struct PaymentError {
    cause: std::io::Error,
}
impl std::fmt::Display for PaymentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "card declined")
    }
}
impl std::error::Error for PaymentError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.cause)
    }
}

#[test]
fn error_values_give_name_stack_and_message() {
    let mock = MockTransport::new();
    let (client, _) = client(&mock);
    let err = PaymentError {
        cause: std::io::Error::new(std::io::ErrorKind::TimedOut, "gateway timed out"),
    };
    client.error("payment failed", &err, LogOptions::tags(["payments"]));
    let boxed: Box<dyn std::error::Error + Send + Sync> = "plain failure".into();
    client.error("boxed", boxed, None);
    client.flush().unwrap();

    let records = mock.records();
    let r = &records[0];
    assert_eq!(r.error_name.as_deref(), Some("PaymentError"));
    let stack = r.error_stack.as_deref().unwrap();
    assert!(stack.contains("PaymentError: card declined"), "{stack}");
    assert!(stack.contains("0: gateway timed out"), "{stack}");
    assert_eq!(r.data.as_ref().unwrap()["message"], "card declined");
    assert_eq!(r.tags, ["payments"]);
    assert_eq!(
        records[1].data.as_ref().unwrap()["message"],
        "plain failure"
    );
}

#[test]
fn flows_number_their_steps_and_filtered_logs_consume_none() {
    let mock = MockTransport::new();
    let errors = Errors::default();
    let client = builder(&mock, &errors)
        .min_level(Level::Info)
        .build()
        .unwrap();
    let flow = client.flow("checkout").unwrap();
    let suffix = &flow.id()["checkout-".len()..];
    assert_eq!(suffix.len(), 8);
    assert!(suffix
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    assert_eq!(flow.name(), "checkout");

    flow.info("cart", (), None)
        .debug("filtered", (), None)
        .warn("retrying payment", json!({"attempt": 2}), None)
        .error("declined", json!({"code": "card"}), None)
        .info("gave up", (), None);
    client.info("outside the flow", (), None);
    client.flush().unwrap();

    let steps: Vec<_> = mock
        .by_flow(flow.id())
        .iter()
        .map(|r| (r.message.clone(), r.step_index))
        .collect();
    assert_eq!(
        steps,
        [
            ("cart".to_owned(), Some(0)),
            ("retrying payment".to_owned(), Some(1)),
            ("declined".to_owned(), Some(2)),
            ("gave up".to_owned(), Some(3))
        ]
    );
    let outside = mock.last().unwrap();
    assert_eq!((outside.flow_id, outside.step_index), (None, None));
    assert_ne!(client.flow("checkout").unwrap().id(), flow.id());
}

#[test]
fn invalid_flow_names_are_errors() {
    let mock = MockTransport::new();
    let (client, _) = client(&mock);
    assert!(
        matches!(client.flow(""), Err(Error::Validation(e)) if e.violation == Violation::TooShort)
    );
    assert!(matches!(client.flow(&"x".repeat(42)), Err(Error::Validation(e)) if e.limit == 41));
    assert!(client.flow(&"x".repeat(41)).is_ok());
}

#[test]
fn a_step_past_the_limit_is_refused_and_reported() {
    let mock = MockTransport::new();
    let errors = Errors::default();
    let client = builder(&mock, &errors)
        .queue_capacity(5_000)
        .build()
        .unwrap();
    let flow = client.flow("long").unwrap();
    for i in 0..1_002 {
        flow.info(format!("step {i}"), (), None);
    }
    client.flush().unwrap();
    assert_eq!(mock.by_flow(flow.id()).len(), 1_001);
    assert_eq!(
        errors.messages(),
        ["invalid log record: stepIndex is too large: 1001, the maximum is 1000"]
    );
}

#[test]
fn server_flows_get_their_id_from_the_transport() {
    let mock = MockTransport::new();
    let (client, _) = client(&mock);
    let flow = futures::executor::block_on(client.flow_async("import")).unwrap();
    assert_eq!(mock.flows_created()[0].id, flow.id());
    flow.info("first", (), None).info("second", (), None);
    client.flush().unwrap();
    assert_eq!(
        mock.by_flow(flow.id())
            .iter()
            .map(|r| r.step_index.unwrap())
            .collect::<Vec<_>>(),
        [0, 1]
    );
}

#[test]
fn server_flow_creation_retries_then_reports_the_failure() {
    let mock = MockTransport::new();
    let (client, _) = client(&mock);
    mock.fail_next(2, Fault::Unavailable);
    assert!(futures::executor::block_on(client.flow_async("a")).is_ok());
    mock.fail_next(1, Fault::Denied);
    let err = futures::executor::block_on(client.flow_async("b")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "transport failed: denied (injected by the mock)"
    );
}

#[test]
fn user_and_session_defaults_apply_until_cleared_and_entries_override_them() {
    let mock = MockTransport::new();
    let errors = Errors::default();
    let client = builder(&mock, &errors)
        .user_id("u-initial")
        .build()
        .unwrap();
    client.info("a", (), None);
    client
        .set_user_id(Some("u-1"))
        .set_session_id(Some("s-1"))
        .info("b", (), None);
    client.log(LogEntry::new(Level::Info, "c").user_id("u-entry"));
    client
        .set_user_id(None)
        .set_session_id(None)
        .info("d", (), None);
    client.flush().unwrap();
    let ids: Vec<_> = mock
        .records()
        .iter()
        .map(|r| {
            (
                r.user_id.as_deref().map(str::to_owned),
                r.session_id.as_deref().map(str::to_owned),
            )
        })
        .collect();
    let s = |v: &str| Some(v.to_owned());
    assert_eq!(
        ids,
        [
            (s("u-initial"), None),
            (s("u-1"), s("s-1")),
            (s("u-entry"), s("s-1")),
            (None, None)
        ]
    );
    client.set_user_id(Some(&"x".repeat(101)));
    assert_eq!(client.user_id(), None);
    assert_eq!(
        errors.messages(),
        ["invalid log record: userId is too long: 101 characters, the maximum is 100"]
    );
}

#[test]
fn log_and_try_log_give_full_control() {
    let mock = MockTransport::new();
    let (client, errors) = client(&mock);
    let entry = LogEntry::new(Level::Warn, "custom")
        .timestamp(1_700_000_000_000)
        .ip_address("10.0.0.1")
        .country("NZ")
        .dataset("audit")
        .error("Timeout", "Timeout: took too long")
        .tags(["t"]);
    client.try_log(entry).unwrap();
    let too_many_tags = LogEntry::new(Level::Info, "x").tags((0..21).map(|i| i.to_string()));
    let err = client.try_log(too_many_tags.clone()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid log record: tags is too many: 21 items, the maximum is 20"
    );
    assert!(
        errors.all().is_empty(),
        "try_log returns errors instead of reporting them"
    );
    client.log(too_many_tags);
    assert_eq!(errors.all().len(), 1);
    client.flush().unwrap();

    let r = mock.last().unwrap();
    assert_eq!(r.timestamp, Some(1_700_000_000_000));
    assert_eq!(
        (r.ip_address.as_deref(), r.country.as_deref()),
        (Some("10.0.0.1"), Some("NZ"))
    );
    assert_eq!(r.dataset.as_deref(), Some("audit"));
    assert_eq!(r.error_name.as_deref(), Some("Timeout"));
    assert_eq!(client.stats().invalid, 2);
}

#[test]
fn below_min_level_nothing_is_sent_and_should_log_agrees() {
    let mock = MockTransport::new();
    let errors = Errors::default();
    let client = builder(&mock, &errors)
        .min_level(Level::Warn)
        .build()
        .unwrap();
    assert!(
        !client.should_log(Level::Info)
            && client.should_log(Level::Warn)
            && client.should_log(Level::Error)
    );
    client
        .debug("no", (), None)
        .info("no", (), None)
        .warn("yes", (), None)
        .error("yes", (), None);
    assert!(client
        .try_log(LogEntry::new(Level::Debug, "skipped"))
        .is_ok());
    client.flush().unwrap();
    assert_eq!(
        mock.records()
            .iter()
            .map(|r| r.message.as_str())
            .collect::<Vec<_>>(),
        ["yes", "yes"]
    );
    assert_eq!(client.stats().accepted, 2);
}

#[test]
fn batches_follow_batch_size_and_the_interval() {
    let mock = MockTransport::new();
    let errors = Errors::default();
    let client = builder(&mock, &errors)
        .batch_size(3)
        .max_batch_records(3)
        .build()
        .unwrap();
    for i in 0..7 {
        client.info(format!("m{i}"), (), None);
    }
    assert!(
        mock.wait_for_count(6, Duration::from_secs(10)),
        "two full batches go without a flush"
    );
    client.flush().unwrap();
    let sizes: Vec<_> = mock.batches().iter().map(|b| b.len()).collect();
    assert_eq!(sizes, [3, 3, 1]);

    let timed = MockTransport::new();
    let client = builder(&timed, &errors)
        .flush_interval(Duration::from_millis(50))
        .build()
        .unwrap();
    client.info("sent by the timer", (), None);
    assert!(timed.wait_for_count(1, Duration::from_secs(10)));
}

#[test]
fn a_backlog_goes_in_large_batches_and_several_at_once() {
    let mock = MockTransport::new();
    let errors = Errors::default();
    // The first batches wait on a slow service while the backlog grows
    // (long enough for even a loaded machine to log the thousand records).
    mock.fail_next(2, Fault::Delay(Duration::from_secs(1)));
    let client = builder(&mock, &errors)
        .max_batch_records(100)
        .max_in_flight(2)
        .build()
        .unwrap();
    for i in 0..1_000 {
        client.info(format!("m{i}"), (), None);
    }
    client.flush().unwrap();
    let sizes: Vec<usize> = mock.batches().iter().map(|b| b.len()).collect();
    assert_eq!(sizes.iter().sum::<usize>(), 1_000);
    assert!(
        sizes.iter().filter(|n| **n == 100).count() >= 8,
        "a backlog goes 100 at a time, not 10: {sizes:?}"
    );
    // Two batches were on the wire at once: the two delayed ones.
    assert_eq!(mock.attempts(), sizes.len() as u64);
    let messages: Vec<String> = mock.records().into_iter().map(|r| r.message).collect();
    let mut sorted = messages.clone();
    sorted.sort_by_key(|m| m[1..].parse::<u32>().unwrap());
    assert_eq!(messages.len(), 1_000);
    assert_eq!(
        sorted,
        (0..1_000).map(|i| format!("m{i}")).collect::<Vec<_>>()
    );
    assert!(errors.all().is_empty());
}

#[test]
fn max_batch_bytes_bounds_each_request_and_refuses_larger_records() {
    let mock = MockTransport::new();
    let errors = Errors::default();
    let client = builder(&mock, &errors)
        .max_batch_bytes(16 * 1024)
        .build()
        .unwrap();
    let big = "x".repeat(3_000);
    for _ in 0..40 {
        client.info(&big, (), None);
    }
    let data = serde_json::json!({"blob": "y".repeat(20_000)});
    let refused = client.try_log(timber_core::LogEntry {
        data: data.as_object().cloned(),
        ..timber_core::LogEntry::new(timber_core::Level::Info, "too big")
    });
    assert!(
        matches!(&refused, Err(Error::Validation(v)) if v.field == "record" && v.limit == 16 * 1024),
        "{refused:?}"
    );
    client.flush().unwrap();
    assert_eq!(mock.count(), 40);
    for batch in mock.batches() {
        // The protocol's body of the batch (what the HTTPS transport sends).
        let body = serde_json::to_vec(&batch.log_records()).unwrap().len() + r#"{"logs":}"#.len();
        assert!(body <= 16 * 1024, "{body}");
    }
    assert_eq!(client.stats().invalid, 1);
}

#[test]
fn retryable_failures_are_retried_with_the_same_batch_key() {
    let mock = MockTransport::new();
    let (client, errors) = client(&mock);
    mock.fail_next(1, Fault::Unavailable)
        .push_fault(Fault::RetryAfter(Duration::from_millis(2)))
        .push_fault(Fault::Connection);
    client.info("eventually", (), None);
    client.flush().unwrap();
    assert_eq!(mock.count(), 1);
    assert_eq!(mock.attempts(), 4);
    assert_eq!(client.stats().retried, 3);
    assert!(errors.all().is_empty());
}

#[test]
fn a_lost_response_is_not_stored_twice() {
    let mock = MockTransport::new();
    let (client, _) = client(&mock);
    mock.fail_next(1, Fault::LostResponse);
    client.info("once", (), None);
    client.flush().unwrap();
    assert_eq!(mock.count(), 1);
    assert_eq!(mock.repeats_ignored(), 1);
}

#[test]
fn a_batch_failing_every_retry_is_kept_reported_and_sent_later_in_order() {
    let mock = MockTransport::new();
    let (client, errors) = client(&mock);
    mock.fail_next(4, Fault::Unavailable);
    client.info("first", (), None).info("second", (), None);
    let err = client.flush().unwrap_err();
    assert!(
        matches!(&err, Error::Undelivered { records: 2, cause } if cause.is_retryable()),
        "{err}"
    );
    assert_eq!(errors.all().len(), 1);
    assert_eq!(mock.count(), 0);
    client.info("third", (), None);
    client.flush().unwrap();
    let messages: Vec<_> = mock.records().into_iter().map(|r| r.message).collect();
    assert_eq!(messages, ["first", "second", "third"]);
    let stats = client.stats();
    assert_eq!(
        (stats.sent, stats.failed, stats.pending, stats.lost),
        (3, 2, 0, 0)
    );
}

#[test]
fn content_rejected_by_the_server_is_isolated_to_the_bad_record() {
    let mock = MockTransport::new();
    let (client, errors) = client(&mock);
    // The whole batch is refused, then its first half, then the second half
    // of that half: only one record is given up.
    mock.fail_next(1, Fault::Refused);
    for i in 0..4 {
        client.info(format!("m{i}"), (), None);
    }
    client.flush().unwrap();
    assert_eq!(
        mock.count(),
        4,
        "halves are accepted once the refusal is over"
    );

    mock.clear();
    mock.fail_next(3, Fault::Refused);
    client.info("a", (), None).info("b", (), None);
    assert!(matches!(
        client.flush(),
        Err(Error::Rejected { records: 1, .. })
    ));
    assert_eq!(mock.count(), 0);
    assert_eq!(client.stats().lost, 2);
    assert_eq!(errors.all().len(), 2);
    assert!(errors.messages()[0]
        .starts_with("1 record(s) refused by the server and dropped: content refused"));
}

#[test]
fn a_half_that_fails_for_good_is_kept_with_its_untried_sibling_in_order() {
    let mock = MockTransport::new();
    let errors = Errors::default();
    // The batch is refused as content, then its first half fails every try
    // (1 + 3 retries): both halves are kept, the second never tried yet.
    mock.push_fault(Fault::Refused);
    for _ in 0..4 {
        mock.push_fault(Fault::Connection);
    }
    let client = builder(&mock, &errors).max_in_flight(1).build().unwrap();
    for i in 0..4 {
        client.info(format!("m{i}"), json!({"i": i}), None);
    }
    assert!(client.flush().is_err());
    assert_eq!(mock.count(), 0);
    assert_eq!(client.stats().pending, 4);
    client.info("m4", (), None);

    client.flush().unwrap();
    let messages: Vec<_> = mock.records().into_iter().map(|r| r.message).collect();
    assert_eq!(messages, ["m0", "m1", "m2", "m3", "m4"]);
    let stats = client.stats();
    assert_eq!((stats.sent, stats.pending, stats.lost), (5, 0, 0));
    assert_eq!(errors.all().len(), 1, "{:?}", errors.messages());
}

#[test]
fn a_full_queue_drops_the_newest_counts_and_reports_once_per_burst() {
    let mock = MockTransport::new();
    let errors = Errors::default();
    mock.fail_next(1, Fault::Delay(Duration::from_millis(300)));
    let client = builder(&mock, &errors)
        .batch_size(2)
        .queue_capacity(4)
        .max_in_flight(1)
        .overflow(OverflowPolicy::DropNewest)
        .build()
        .unwrap();
    for i in 0..20 {
        client.info(format!("m{i}"), (), None);
    }
    client.flush().unwrap();
    let stats = client.stats();
    assert!(stats.dropped > 0);
    assert_eq!(stats.accepted, 20);
    assert_eq!(
        stats.accepted,
        stats.sent + stats.pending + stats.dropped + stats.lost
    );
    let full: Vec<_> = errors
        .all()
        .into_iter()
        .filter(|e| matches!(e, Error::QueueFull { .. }))
        .collect();
    assert!(!full.is_empty() && full.len() as u64 <= stats.dropped);
    assert!(
        full.len() <= 3,
        "one report per burst, not per record: {}",
        full.len()
    );
    // Each burst's end reports its total: together, every drop.
    let totals: u64 = errors
        .all()
        .iter()
        .map(|e| match e {
            Error::Dropped { records, .. } => *records,
            _ => 0,
        })
        .sum();
    assert_eq!(totals, stats.dropped, "{:?}", errors.messages());
    let messages: Vec<_> = mock.records().into_iter().map(|r| r.message).collect();
    assert_eq!(messages[0], "m0", "accepted records keep their order");
}

#[test]
fn drop_oldest_keeps_the_newest() {
    let mock = MockTransport::new();
    let errors = Errors::default();
    mock.fail_next(1, Fault::Delay(Duration::from_millis(200)));
    let client = builder(&mock, &errors)
        .batch_size(1)
        .queue_capacity(3)
        .overflow(timber_core::OverflowPolicy::DropOldest)
        .build()
        .unwrap();
    for i in 0..10 {
        client.info(format!("m{i}"), (), None);
    }
    client.flush().unwrap();
    let messages: Vec<_> = mock.records().into_iter().map(|r| r.message).collect();
    assert_eq!(messages.last().unwrap(), "m9");
    let stats = client.stats();
    assert_eq!(stats.sent + stats.dropped, 10);
}

#[test]
fn raw_ingestion_fills_options_from_the_config_and_retries() {
    let mock = MockTransport::new();
    let errors = Errors::default();
    let client = builder(&mock, &errors)
        .dataset("ds")
        .environment(Environment::Development)
        .build()
        .unwrap();
    mock.fail_next(1, Fault::Unavailable);
    client
        .ingest_raw(
            "<165>1 2024-01-15T10:30:00.000Z myhost api 1234 - - Connection refused",
            RawFormat::Syslog,
            None,
        )
        .unwrap();
    let options = IngestRawOptions::new().source("relay").level(Level::Warn);
    futures::executor::block_on(client.ingest_raw_async("a line", RawFormat::Text, options))
        .unwrap();
    let raw = mock.raw_ingestions();
    assert_eq!(raw.len(), 2);
    assert_eq!(raw[0].options.source.as_deref(), Some("test-app"));
    assert_eq!(raw[0].options.environment, Some(Environment::Development));
    assert_eq!(raw[0].options.dataset.as_deref(), Some("ds"));
    assert_eq!(raw[1].options.source.as_deref(), Some("relay"));
    assert_eq!(raw[1].options.level, Some(Level::Warn));
    assert!(matches!(
        client.ingest_raw("  ", RawFormat::Csv, None),
        Err(Error::InvalidRawBody { .. })
    ));
}

#[test]
fn a_raw_validator_refuses_malformed_bodies_before_sending() {
    let mock = MockTransport::new();
    let errors = Errors::default();
    let client = builder(&mock, &errors)
        .raw_validator(std::sync::Arc::new(|format, body: &str| match format {
            RawFormat::Json if !body.starts_with('[') => {
                Err("line 1, column 1: expected an array".into())
            }
            _ => Ok(()),
        }))
        .build()
        .unwrap();
    let err = client.ingest_raw("{", RawFormat::Json, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid json body: line 1, column 1: expected an array"
    );
    assert!(mock.raw_ingestions().is_empty());
}

#[test]
fn block_waits_for_room_so_a_burst_loses_nothing_while_the_service_keeps_up() {
    let mock = MockTransport::new();
    let errors = Errors::default();
    // A slow service: each of the first batches takes 20 ms.
    mock.fail_next(8, Fault::Delay(Duration::from_millis(20)));
    let client = builder(&mock, &errors)
        .batch_size(5)
        .max_batch_records(5)
        .max_in_flight(2)
        .queue_capacity(10)
        .overflow(OverflowPolicy::Block {
            max_wait: Duration::from_secs(30),
        })
        .build()
        .unwrap();
    for i in 0..200 {
        client.info(format!("m{i}"), (), None);
    }
    client.flush().unwrap();
    let stats = client.stats();
    assert_eq!((stats.sent, stats.dropped), (200, 0), "{stats:?}");
    assert!(errors.all().is_empty(), "{:?}", errors.messages());
}

#[test]
fn block_never_waits_while_the_service_fails_nor_twice_on_a_hung_one() {
    // A failing service: callers must not wait for room at all (a wait of
    // an hour would hang the test).
    let failing = MockTransport::new();
    failing.fail_next(1_000_000, Fault::Unavailable);
    let errors = Errors::default();
    let block_an_hour = OverflowPolicy::Block {
        max_wait: Duration::from_secs(3_600),
    };
    let client = builder(&failing, &errors)
        .batch_size(5)
        .queue_capacity(10)
        .overflow(block_an_hour)
        .build()
        .unwrap();
    client.info("first", (), None);
    let _ = client.flush(); // the batch fails every retry: deliveries are failing
    for i in 0..1_000 {
        client.info(format!("m{i}"), (), None);
    }
    assert!(client.stats().dropped > 0);

    // A hung service: the first caller at the bound waits once in vain,
    // the rest drop at once (1,000 waits of 200 ms would take minutes).
    let hung = MockTransport::new();
    hung.fail_next(1, Fault::Delay(Duration::from_secs(3_600)));
    let client = builder(&hung, &errors)
        .batch_size(5)
        .max_batch_records(5)
        .max_in_flight(1)
        .queue_capacity(10)
        .shutdown_timeout(Duration::from_millis(100))
        .overflow(OverflowPolicy::Block {
            max_wait: Duration::from_millis(200),
        })
        .build()
        .unwrap();
    let start = std::time::Instant::now();
    for i in 0..1_000 {
        client.info(format!("m{i}"), (), None);
    }
    // Not a benchmark: only waiting on every call would break this.
    assert!(start.elapsed() < Duration::from_secs(60));
    assert!(client.stats().dropped > 900);
}

#[test]
fn a_callback_that_logs_into_a_full_queue_does_not_wait_on_the_worker() {
    let mock = MockTransport::new();
    mock.fail_next(1_000_000, Fault::Unavailable);
    let slot: std::sync::Arc<std::sync::Mutex<Option<Client>>> = Default::default();
    let inner = slot.clone();
    let client = Client::builder()
        .source("s")
        .api_key("k")
        .retry(common::fast_retry())
        .batch_size(1)
        .queue_capacity(1)
        .overflow(OverflowPolicy::Block {
            max_wait: Duration::from_secs(3_600),
        })
        .on_error(move |e| {
            // Runs on the worker for a failed delivery: logging from there
            // into the full queue must not wait for the worker itself.
            let client = inner.lock().unwrap().clone();
            if let (Error::Undelivered { .. }, Some(c)) = (e, client) {
                c.info("delivery failed", (), None);
            }
        })
        .transport(mock.clone())
        .build()
        .unwrap();
    *slot.lock().unwrap() = Some(client.clone());
    client.info("a", (), None).info("b", (), None);
    assert!(client.flush().is_err());
    slot.lock().unwrap().take();
}

#[test]
fn an_on_error_that_logs_through_the_client_does_not_recurse() {
    let slot: std::sync::Arc<std::sync::Mutex<Option<Client>>> = Default::default();
    let inner = slot.clone();
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counted = calls.clone();
    let mock = MockTransport::new();
    let client = Client::builder()
        .source("s")
        .api_key("k")
        .on_error(move |e| {
            counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            // Logging the error through the same client: once closed, that
            // is refused too, which would be reported, which would log...
            let client = inner.lock().unwrap().clone();
            if let Some(c) = client {
                c.error("logging failed", e, None);
            }
        })
        .transport(mock.clone())
        .build()
        .unwrap();
    *slot.lock().unwrap() = Some(client.clone());
    client.disconnect().unwrap();
    client.info("after disconnect", (), None);
    assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 1);
    assert_eq!(client.stats().invalid, 2, "both refusals counted");
    slot.lock().unwrap().take();
}

#[test]
fn flush_and_disconnect_inside_on_error_do_not_wedge_the_worker() {
    let mock = MockTransport::new();
    mock.fail_next(4, Fault::Unavailable);
    let slot: std::sync::Arc<std::sync::Mutex<Option<timber_core::WeakClient>>> =
        Default::default();
    let inner = slot.clone();
    let outcomes = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = outcomes.clone();
    let client = builder(&mock, &Errors::default())
        .on_error(move |_| {
            let client = inner.lock().unwrap().as_ref().and_then(|w| w.upgrade());
            if let Some(c) = client {
                // On the reporting thread: the worker goes on meanwhile.
                let outcome = c.flush().map(|_| ()).map_err(|e| e.to_string());
                seen.lock().unwrap().push(outcome);
            }
        })
        .build()
        .unwrap();
    *slot.lock().unwrap() = Some(client.downgrade());
    client.info("fails every retry", (), None);
    assert!(client.flush().is_err());
    // The callback's own flush sends the held batch again, and it goes.
    let until = std::time::Instant::now() + Duration::from_secs(30);
    while outcomes.lock().unwrap().is_empty() && std::time::Instant::now() < until {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(&outcomes.lock().unwrap()[..], [Ok(())]);
    client.flush().unwrap();
    assert_eq!(mock.count(), 1);
}

#[test]
fn an_on_error_holding_a_weak_client_lets_the_last_drop_flush() {
    let mock = MockTransport::new();
    let slot: std::sync::Arc<std::sync::Mutex<Option<timber_core::WeakClient>>> =
        Default::default();
    let inner = slot.clone();
    let client = builder(&mock, &Errors::default())
        .on_error(move |e| {
            let client = inner.lock().unwrap().as_ref().and_then(|w| w.upgrade());
            if let Some(c) = client {
                c.warn(
                    "logging reported an error",
                    json!({"error": e.to_string()}),
                    None,
                );
            }
        })
        .build()
        .unwrap();
    *slot.lock().unwrap() = Some(client.downgrade());
    client.info("delivered by the drop", (), None);
    drop(client);
    assert_eq!(
        mock.count(),
        1,
        "the drop flushed: the callback kept no handle"
    );
    assert!(slot.lock().unwrap().as_ref().unwrap().upgrade().is_none());
}

#[test]
fn the_default_on_error_never_blocks_on_a_stderr_nobody_reads() {
    const CHILD: &str = "TIMBER_TEST_STDERR_CHILD";
    if std::env::var_os(CHILD).is_some() {
        // The child: stderr is a pipe the parent never reads (64 KiB fill
        // it); each refused record writes a report line.
        let client = Client::builder()
            .source("s")
            .api_key("k")
            .transport(MockTransport::new())
            .build()
            .unwrap();
        for _ in 0..20_000 {
            client.info("", (), None);
        }
        println!("child done: {} refused", client.stats().invalid);
        return;
    }
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "the_default_on_error_never_blocks_on_a_stderr_nobody_reads",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    // Reading stdout to its end returns once the child exits; a child blocked
    // on its stderr would never get there (then the test runner's timeout).
    let mut out = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut out).unwrap();
    assert!(out.contains("child done: 20000 refused"), "{out}");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn disconnect_flushes_and_refuses_later_logs() {
    let mock = MockTransport::new();
    let (client, errors) = client(&mock);
    client.info("before", (), None);
    client.disconnect().unwrap();
    assert_eq!(mock.count(), 1);
    client.info("after", (), None);
    assert_eq!(errors.messages(), ["the client is disconnected"]);
    assert!(matches!(
        client.ingest_raw("x", RawFormat::Text, None),
        Err(Error::Closed)
    ));
    client.disconnect().unwrap();
    client.flush().unwrap();
}

#[test]
fn dropping_the_last_handle_flushes() {
    let mock = MockTransport::new();
    let (client, _) = client(&mock);
    let clone = client.clone();
    let flow = client.flow("f").unwrap();
    drop(client);
    clone.info("from a clone", (), None);
    drop(clone);
    assert_eq!(mock.count(), 0, "the flow still holds the client");
    flow.info("last", (), None);
    drop(flow);
    assert_eq!(mock.count(), 2);
}

#[test]
fn shutdown_is_bounded_by_the_timeout_and_reports_what_was_lost() {
    let mock = MockTransport::new();
    let errors = Errors::default();
    mock.fail_next(1, Fault::Delay(Duration::from_secs(30)));
    let client = builder(&mock, &errors)
        .shutdown_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    client.info("stuck", (), None).info("behind it", (), None);
    let err = client.disconnect().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Lost {
                records: 2,
                cause: None
            }
        ),
        "{err}"
    );
    let stats = client.stats();
    assert_eq!((stats.lost, stats.pending), (2, 0));
    assert_eq!(
        errors.messages(),
        ["2 record(s) lost at shutdown: the shutdown timeout ran out"]
    );
}

#[test]
fn a_default_disconnect_rides_out_a_service_that_fails_three_times() {
    // Every setting at its default: 3 retries after 1, 2 and 4 s (with
    // jitter) would not fit the 5 s shutdown timeout; at disconnect the
    // waits are shortened to fit.
    let mock = MockTransport::new();
    mock.fail_next(3, Fault::Unavailable);
    let client = Client::builder()
        .source("s")
        .api_key("k")
        .transport(mock.clone())
        .build()
        .unwrap();
    client.info("kept, not lost", (), None);
    client.disconnect().unwrap();
    assert_eq!(mock.count(), 1);
    assert_eq!(mock.attempts(), 4);
}

#[test]
fn shutdown_with_a_failing_server_gives_up_after_retries() {
    let mock = MockTransport::new();
    let errors = Errors::default();
    mock.fail_next(100, Fault::Unavailable);
    let client = builder(&mock, &errors).build().unwrap();
    client.info("doomed", (), None);
    let err = client.disconnect().unwrap_err();
    assert!(
        matches!(err, Error::Undelivered { .. } | Error::Lost { .. }),
        "{err}"
    );
    assert_eq!(client.stats().lost, 1);
}

#[test]
fn invalid_configuration_is_an_error_not_a_panic() {
    let mock = MockTransport::new();
    let base = || {
        Client::builder()
            .source("s")
            .api_key("k")
            .transport(mock.clone())
    };
    let cases = [
        (
            Client::builder()
                .api_key("k")
                .transport(mock.clone())
                .build(),
            "source: is required",
        ),
        (
            base().source("").build(),
            "source: must be 1 to 100 characters",
        ),
        (
            Client::builder()
                .source("s")
                .transport(mock.clone())
                .build(),
            "api_key: is required",
        ),
        (
            base().batch_size(0).build(),
            "batch_size: must be at least 1",
        ),
        (
            base().flush_interval(Duration::ZERO).build(),
            "flush_interval: must be more than zero",
        ),
        (
            base().batch_size(20).queue_capacity(10).build(),
            "queue_capacity: must be at least batch_size",
        ),
        (
            base().base_url("ftp://x").build(),
            "base_url: must start with https:// (or http://)",
        ),
        (
            base().base_url("https://ingest.example.com/v2?tenant=a").build(),
            "base_url: must not have a query or fragment (requests add their own)",
        ),
        (
            base().base_url("https://ingest.example.com#x").build(),
            "base_url: must not have a query or fragment (requests add their own)",
        ),
        (
            base().base_url("https://user:hunter2@ingest.example.com").build(),
            "base_url: must not hold a user name or password (the API key goes in api_key)",
        ),
        (
            base().base_url("https:///v1").build(),
            "base_url: has no host",
        ),
        (
            base().api_key("tb_live_abc\r\nX-Evil: 1").build(),
            "api_key: must not contain CR or LF (it is sent in an HTTP header)",
        ),
        (
            base().api_key("tb_live_abc\0").build(),
            "api_key: must be visible ASCII characters only: no spaces, control or non-ASCII characters (it is sent in an HTTP header)",
        ),
        (
            base().spool_max_bytes(10).build(),
            "spool_max_bytes: needs a spool directory (spool(dir))",
        ),
        (
            base().max_in_flight(0).build(),
            "max_in_flight: must be 1 to 64",
        ),
        (
            base().batch_size(50).max_batch_records(20).build(),
            "max_batch_records: must be at least batch_size",
        ),
        (
            base().max_batch_bytes(100).build(),
            "max_batch_bytes: must be at least 16 KiB",
        ),
        (
            base().queue_max_bytes(1 << 10).build(),
            "queue_max_bytes: must be at least max_batch_bytes",
        ),
        (
            base().dataset("d".repeat(51)).build(),
            "dataset: must be at most 50 characters",
        ),
        (
            Client::builder().source("s").api_key("k").build(),
            "transport: is required",
        ),
    ];
    for (result, expected) in cases {
        let err = result.unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("invalid configuration: {expected}")
        );
        assert!(!err.to_string().contains("hunter2") && !err.to_string().contains("Evil"));
    }
    // A spool size given before the directory is kept.
    let dir = tempfile::tempdir().unwrap();
    let client = base()
        .spool_max_bytes(1234)
        .spool(dir.path())
        .build()
        .unwrap();
    assert_eq!(client.config().spool.as_ref().unwrap().max_bytes, 1234);
}

#[test]
fn the_api_key_never_appears_in_debug_or_errors() {
    let mock = MockTransport::new();
    let (client, errors) = client(&mock);
    mock.fail_next(10, Fault::Unavailable);
    client.info("x", (), None);
    let _ = client.flush();
    let debug = format!(
        "{client:?} {:?} {:?}",
        client.config(),
        Client::builder().api_key("tb_test_secret_key_123")
    );
    for text in errors.messages().into_iter().chain([debug]) {
        assert!(!text.contains("secret_key_123"), "{text}");
    }
}

#[test]
fn handles_are_send_sync_and_clone() {
    fn assert_traits<T: Send + Sync + Clone + 'static>() {}
    assert_traits::<Client>();
    assert_traits::<timber_core::Flow>();
    assert_traits::<MockTransport>();
}

#[test]
fn raw_bodies_are_checked_by_the_validator_unless_opted_out() {
    let mock = MockTransport::new();
    // The mock refuses what the service would refuse: with a 400, after the request.
    mock.check_raw_with(|_, body| {
        if body.starts_with('{') {
            Ok(())
        } else {
            Err("line 1, column 1: expected an object".into())
        }
    });
    let validator: timber_core::config::RawValidator = std::sync::Arc::new(|_, body: &str| {
        if body.starts_with('{') {
            Ok(())
        } else {
            Err("line 1, column 1: expected an object".into())
        }
    });
    let client = Client::builder()
        .source("s")
        .api_key("k")
        .raw_validator(validator.clone())
        .transport(mock.clone())
        .build()
        .unwrap();
    let err = client
        .ingest_raw("not json", RawFormat::Jsonl, None)
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRawBody { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "invalid jsonl body: line 1, column 1: expected an object"
    );
    assert_eq!(mock.attempts(), 0, "refused before any request");
    client.ingest_raw("{}", RawFormat::Jsonl, None).unwrap();

    // Opted out: the body goes out and the server's 400 comes back.
    let unchecked = Client::builder()
        .source("s")
        .api_key("k")
        .raw_validator(validator)
        .check_raw_bodies(false)
        .transport(mock.clone())
        .build()
        .unwrap();
    let err = unchecked
        .ingest_raw("not json", RawFormat::Jsonl, None)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "transport failed: line 1, column 1: expected an object"
    );
    assert_eq!(mock.attempts(), 2);
    let bodies: Vec<String> = mock.raw_ingestions().into_iter().map(|r| r.body).collect();
    assert_eq!(bodies, ["{}"]);
}

#[test]
fn a_panicking_transport_or_callback_does_not_kill_the_worker() {
    let mock = MockTransport::new();
    let client = Client::builder()
        .source("s")
        .api_key("k")
        .on_error(|e| panic!("a buggy callback: {e}"))
        .transport(mock.clone())
        .build()
        .unwrap();
    mock.push_fault(Fault::Panic);
    client.info("kept through the panics", (), None);
    assert!(
        client.flush().is_err(),
        "the panicked send failed the flush"
    );
    client.info("after", (), None);
    client.flush().unwrap();
    let messages: Vec<String> = mock.records().into_iter().map(|r| r.message).collect();
    assert_eq!(messages, ["kept through the panics", "after"]);
}

#[test]
fn a_record_logged_while_thread_locals_are_destroyed_still_arrives() {
    struct LogsOnDrop(Client);
    impl Drop for LogsOnDrop {
        fn drop(&mut self) {
            self.0.info(
                "from a destructor",
                json!({"k": 1}),
                LogOptions::tags(["tls"]),
            );
        }
    }
    thread_local! {
        static GUARD: std::cell::RefCell<Option<LogsOnDrop>> = const { std::cell::RefCell::new(None) };
    }
    let mock = MockTransport::new();
    let (client, errors) = client(&mock);
    client.set_user_id(Some("u-1"));
    let logger = client.clone();
    std::thread::spawn(move || {
        // The guard's local is set up first, so it is destroyed last, after
        // the SDK's own thread locals.
        GUARD.with(|g| *g.borrow_mut() = Some(LogsOnDrop(logger.clone())));
        logger.info("warm", json!({"k": 0}), None);
    })
    .join()
    .unwrap();
    client.flush().unwrap();
    let messages: Vec<_> = mock.records().into_iter().map(|r| r.message).collect();
    assert_eq!(messages, ["warm", "from a destructor"]);
    assert!(errors.all().is_empty());
}
