//! The `tracing` layer: events through the macros arrive in the mock as the
//! expected records, flows keep sequential steps across tasks and threads,
//! and the SDK never logs into itself.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use timber_core::{Client, ClientBuilder, Level, LogRecord};
use timber_tracing::TimberLayer;
use timber_transport_mock::MockTransport;
use tracing::instrument::WithSubscriber;
use tracing::{Dispatch, Instrument};
use tracing_subscriber::layer::SubscriberExt;

fn builder(mock: &MockTransport) -> ClientBuilder {
    Client::builder()
        .source("test-app")
        .api_key("tb_test_key")
        .min_level(Level::Debug)
        .flush_interval(Duration::from_secs(3600))
        .batch_size(1000)
        .transport(mock.clone())
}

fn dispatch(layer: TimberLayer) -> Dispatch {
    Dispatch::new(tracing_subscriber::registry().with(layer))
}

/// Runs `f` with a layer over `client` as this thread's subscriber, then
/// returns what reached the mock.
fn capture(client: &Client, mock: &MockTransport, f: impl FnOnce()) -> Vec<LogRecord> {
    tracing::dispatcher::with_default(&dispatch(TimberLayer::new(client.clone())), f);
    client.flush().unwrap();
    mock.records()
}

fn data(record: &LogRecord) -> &serde_json::Map<String, Value> {
    record.data.as_ref().expect("the record has data")
}

#[test]
fn events_become_records_with_levels_message_and_typed_fields() {
    let mock = MockTransport::new();
    let client = builder(&mock).build().unwrap();
    let records = capture(&client, &mock, || {
        tracing::trace!("tracing at trace");
        tracing::debug!("tracing at debug");
        tracing::info!(
            count = 3,
            neg = -7,
            ratio = 0.5,
            ok = true,
            name = "ada",
            shown = ?vec![1, 2],
            "user {} logged in",
            "ada"
        );
        tracing::warn!(target: "billing", "slow");
        tracing::error!("boom");
    });
    let levels: Vec<Level> = records.iter().map(|r| r.level).collect();
    assert_eq!(
        levels,
        [
            Level::Debug,
            Level::Debug,
            Level::Info,
            Level::Warn,
            Level::Error
        ]
    );
    let info = &records[2];
    assert_eq!(info.message, "user ada logged in");
    let d = data(info);
    assert_eq!(d["count"], json!(3));
    assert_eq!(d["neg"], json!(-7));
    assert_eq!(d["ratio"], json!(0.5));
    assert_eq!(d["ok"], json!(true));
    assert_eq!(d["name"], json!("ada"));
    assert_eq!(d["shown"], json!("[1, 2]"));
    assert!(!d.contains_key("message"));
    // Where an event came from is data only when asked for (with_target, with_module).
    assert!(!d.contains_key("target") && !d.contains_key("module"));
    assert_eq!(records[3].data, None);
    assert!(records.iter().all(|r| r.flow_id.is_none()));
}

#[test]
fn events_below_min_level_are_skipped() {
    let mock = MockTransport::new();
    let client = builder(&mock).min_level(Level::Warn).build().unwrap();
    let records = capture(&client, &mock, || {
        tracing::debug!("no");
        tracing::info!("no");
        tracing::warn!("yes");
    });
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].message, "yes");
}

#[test]
fn span_fields_are_merged_innermost_first_and_event_fields_win() {
    let mock = MockTransport::new();
    let client = builder(&mock).build().unwrap();
    let records = capture(&client, &mock, || {
        let outer = tracing::info_span!("request", request = "r-1", who = "outer", depth = 1);
        let _o = outer.enter();
        let inner =
            tracing::info_span!("db", who = "inner", depth = 2, late = tracing::field::Empty);
        let _i = inner.enter();
        inner.record("late", 99);
        tracing::info!("in inner");
        tracing::info!(depth = 3, "event wins");
    });
    let d = data(&records[0]);
    assert_eq!(d["request"], json!("r-1"));
    assert_eq!(d["who"], json!("inner"));
    assert_eq!(d["depth"], json!(2));
    assert_eq!(d["late"], json!(99));
    assert_eq!(data(&records[1])["depth"], json!(3));
}

#[test]
fn a_flow_span_makes_its_events_one_flow_with_sequential_steps() {
    let mock = MockTransport::new();
    let client = builder(&mock).min_level(Level::Info).build().unwrap();
    let records = capture(&client, &mock, || {
        tracing::info!("before the flow");
        let checkout = tracing::info_span!("checkout", flow = "checkout", cart = 7);
        let _c = checkout.enter();
        tracing::info!("cart loaded");
        tracing::debug!("filtered: consumes no step");
        {
            let child = tracing::info_span!("payment", provider = "card");
            let _p = child.enter();
            tracing::info!("payment accepted");
        }
        tracing::info!("order placed");
    });
    assert_eq!(records.len(), 4);
    assert_eq!(records[0].flow_id, None);
    let flow_id = records[1].flow_id.clone().expect("a flow id");
    assert!(flow_id.starts_with("checkout-"), "{flow_id}");
    let steps: Vec<_> = records[1..]
        .iter()
        .map(|r| (r.flow_id.as_deref(), r.step_index))
        .collect();
    assert_eq!(
        steps,
        [
            (Some(&*flow_id), Some(0)),
            (Some(&*flow_id), Some(1)),
            (Some(&*flow_id), Some(2))
        ]
    );
    // The flow name is the id, not data; other span fields are data.
    assert!(!data(&records[1]).contains_key("flow"));
    assert_eq!(data(&records[2])["provider"], json!("card"));
    assert_eq!(data(&records[2])["cart"], json!(7));
}

#[test]
fn the_innermost_flow_wins_and_each_flow_counts_its_own_steps() {
    let mock = MockTransport::new();
    let client = builder(&mock).build().unwrap();
    let records = capture(&client, &mock, || {
        let order = tracing::info_span!("order", flow = "order");
        let _o = order.enter();
        tracing::info!("order step");
        {
            let refund = tracing::info_span!("refund", flow = "refund");
            let _r = refund.enter();
            tracing::info!("refund step");
            tracing::info!("refund step");
        }
        tracing::info!("order step");
    });
    let seen: Vec<_> = records
        .iter()
        .map(|r| {
            let id = r.flow_id.as_deref().unwrap();
            (
                id.split('-').next().unwrap().to_owned(),
                r.step_index.unwrap(),
            )
        })
        .collect();
    let expected = [("order", 0), ("refund", 0), ("refund", 1), ("order", 1)];
    let expected: Vec<_> = expected.iter().map(|(n, s)| (n.to_string(), *s)).collect();
    assert_eq!(seen, expected);
}

#[test]
fn a_flow_name_recorded_later_opens_the_flow_then() {
    let mock = MockTransport::new();
    let client = builder(&mock).build().unwrap();
    let records = capture(&client, &mock, || {
        let span = tracing::info_span!("job", flow = tracing::field::Empty);
        let _s = span.enter();
        tracing::info!("not yet a flow");
        span.record("flow", "nightly");
        tracing::info!("now a flow");
    });
    assert_eq!(records[0].flow_id, None);
    assert!(records[1]
        .flow_id
        .as_deref()
        .unwrap()
        .starts_with("nightly-"));
    assert_eq!(records[1].step_index, Some(0));
}

#[test]
fn an_invalid_flow_name_stays_a_plain_field() {
    let mock = MockTransport::new();
    let client = builder(&mock).build().unwrap();
    let long = "x".repeat(60);
    let records = capture(&client, &mock, || {
        let span = tracing::info_span!("job", flow = long.as_str());
        let _s = span.enter();
        tracing::info!("logged anyway");
    });
    assert_eq!(records[0].flow_id, None);
    assert_eq!(data(&records[0])["flow"], json!(long));
}

#[test]
fn a_flow_span_across_tasks_of_a_multi_thread_runtime_keeps_steps_sequential() {
    let mock = MockTransport::new();
    let client = builder(&mock).build().unwrap();
    let dispatch = dispatch(TimberLayer::new(client.clone()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    const TASKS: u64 = 8;
    const STEPS: u64 = 25;

    let span = tracing::dispatcher::with_default(&dispatch, || {
        tracing::info_span!("checkout", flow = "checkout")
    });
    runtime.block_on(async {
        let tasks: Vec<_> = (0..TASKS)
            .map(|task| {
                let work = async move {
                    for i in 0..STEPS {
                        tracing::info!(task, i, "step");
                        tokio::task::yield_now().await;
                    }
                };
                tokio::spawn(
                    work.instrument(span.clone())
                        .with_subscriber(dispatch.clone()),
                )
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    client.flush().unwrap();

    let records = mock.records();
    assert_eq!(records.len() as u64, TASKS * STEPS);
    let flow_id = records[0].flow_id.clone().unwrap();
    assert!(records
        .iter()
        .all(|r| r.flow_id.as_deref() == Some(&*flow_id)));
    // Queue order is step order, with no gap and no duplicate.
    let steps: Vec<u32> = records.iter().map(|r| r.step_index.unwrap()).collect();
    assert_eq!(steps, (0..(TASKS * STEPS) as u32).collect::<Vec<_>>());
    // Each task's own steps come in its program order.
    for task in 0..TASKS {
        let order: Vec<u64> = records
            .iter()
            .filter(|r| data(r)["task"] == json!(task))
            .map(|r| data(r)["i"].as_u64().unwrap())
            .collect();
        assert_eq!(order, (0..STEPS).collect::<Vec<_>>());
    }
}

#[test]
fn a_flow_span_entered_on_several_os_threads_shares_its_steps() {
    let mock = MockTransport::new();
    let client = builder(&mock).build().unwrap();
    let dispatch = dispatch(TimberLayer::new(client.clone()));
    let span = tracing::dispatcher::with_default(&dispatch, || {
        tracing::info_span!("import", flow = "import")
    });
    std::thread::scope(|s| {
        for t in 0..4 {
            let (span, dispatch) = (span.clone(), dispatch.clone());
            s.spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    let _inside = span.enter();
                    for i in 0..20 {
                        tracing::info!(t, i, "row");
                    }
                })
            });
        }
    });
    client.flush().unwrap();
    let mut steps: Vec<u32> = mock
        .records()
        .iter()
        .map(|r| r.step_index.unwrap())
        .collect();
    assert_eq!(steps, (0..80).collect::<Vec<_>>());
    steps.dedup();
    assert_eq!(steps.len(), 80);
}

#[derive(Debug)]
struct ConfigError(std::io::Error);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("loading config failed")
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

#[test]
fn error_fields_fill_error_name_and_stack() {
    let mock = MockTransport::new();
    let client = builder(&mock).build().unwrap();
    let parse = "x".parse::<i32>().unwrap_err();
    let config = ConfigError(std::io::Error::new(
        std::io::ErrorKind::NotFound,
        "no such file",
    ));
    let records = capture(&client, &mock, || {
        tracing::error!(
            error = &config as &(dyn std::error::Error + 'static),
            "as dyn Error"
        );
        tracing::error!(error = ?parse, "with ?err");
        tracing::error!(err = %parse, "with %err");
        tracing::error!(reason = %parse, "not an error field");
    });

    let dyn_error = &records[0];
    assert_eq!(dyn_error.error_name.as_deref(), Some("ConfigError"));
    let stack = dyn_error.error_stack.as_deref().unwrap();
    assert!(
        stack.starts_with("ConfigError: loading config failed\n\nCaused by:\n  0: no such file"),
        "{stack}"
    );
    assert_eq!(data(dyn_error)["error"], json!("loading config failed"));

    assert_eq!(records[1].error_name.as_deref(), Some("ParseIntError"));
    assert_eq!(
        records[1].error_stack.as_deref(),
        Some("ParseIntError { kind: InvalidDigit }")
    );

    // Display text names no type: the name is the generic one.
    assert_eq!(records[2].error_name.as_deref(), Some("Error"));
    assert_eq!(
        records[2].error_stack.as_deref(),
        Some("invalid digit found in string")
    );
    assert_eq!(
        data(&records[2])["err"],
        json!("invalid digit found in string")
    );

    assert_eq!(records[3].error_name, None);
    assert_eq!(
        data(&records[3])["reason"],
        json!("invalid digit found in string")
    );
}

#[test]
fn an_event_without_message_uses_its_name_and_long_messages_are_cut() {
    let mock = MockTransport::new();
    let client = builder(&mock).build().unwrap();
    let long = "y".repeat(20_000);
    let records = capture(&client, &mock, || {
        tracing::info!(answer = 42);
        tracing::info!("{long}");
    });
    assert!(
        records[0].message.starts_with("event "),
        "{}",
        records[0].message
    );
    assert_eq!(records[1].message.chars().count(), 10_000);
    assert_eq!(client.stats().invalid, 0);
}

#[test]
fn sdk_threads_and_ignored_targets_are_dropped() {
    let mock = MockTransport::new();
    let client = builder(&mock).build().unwrap();
    let records = capture(&client, &mock, || {
        tracing::info!(target: "hyper::proto::h1", "from the HTTP stack");
        tracing::info!(target: "h2", "from the HTTP stack");
        tracing::info!(target: "timber_transport_hyper", "from the transport");
        tracing::info!(target: "hyperloop", "an application crate");
        let on_thread = |name: &str, mark: bool, message: &'static str| {
            let dispatch = tracing::dispatcher::get_default(Clone::clone);
            std::thread::Builder::new()
                .name(name.into())
                .spawn(move || {
                    if mark {
                        timber_core::integration::mark_sdk_thread();
                    }
                    tracing::dispatcher::with_default(&dispatch, || tracing::info!("{message}"))
                })
                .unwrap()
                .join()
                .unwrap();
        };
        on_thread("timber-transport-io", true, "on an SDK thread");
        // The name alone does not make a thread the SDK's.
        on_thread(
            "timber-app",
            false,
            "on an application thread named timber-",
        );
    });
    let messages: Vec<_> = records.iter().map(|r| r.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "an application crate",
            "on an application thread named timber-"
        ]
    );
}

#[test]
fn ignored_targets_are_configurable() {
    let mock = MockTransport::new();
    let client = builder(&mock).build().unwrap();
    let layer = TimberLayer::new(client.clone())
        .ignored_targets(Vec::<String>::new())
        .ignore_target("noisy");
    tracing::dispatcher::with_default(&dispatch(layer), || {
        tracing::info!(target: "hyper", "kept now");
        tracing::info!(target: "noisy::inner", "dropped");
    });
    client.flush().unwrap();
    let messages: Vec<_> = mock.records().into_iter().map(|r| r.message).collect();
    assert_eq!(messages, ["kept now"]);
}

#[test]
fn logging_from_on_error_does_not_loop_back() {
    let mock = MockTransport::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let client = builder(&mock)
        .on_error(move |e| {
            seen.fetch_add(1, Ordering::SeqCst);
            // Runs on the caller's thread, inside the layer.
            tracing::error!(error = %e, "the SDK refused a record");
        })
        .build()
        .unwrap();
    client.disconnect().unwrap();
    tracing::dispatcher::with_default(&dispatch(TimberLayer::new(client.clone())), || {
        tracing::info!("refused: the client is closed");
        tracing::info!("refused again");
    });
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(mock.count(), 0);
}

#[test]
fn a_custom_flow_field_name() {
    let mock = MockTransport::new();
    let client = builder(&mock).build().unwrap();
    let layer = TimberLayer::new(client.clone()).flow_field("timber.flow");
    tracing::dispatcher::with_default(&dispatch(layer), || {
        let span = tracing::info_span!("s", timber.flow = "signup", flow = "kept as data");
        let _s = span.enter();
        tracing::info!("step");
    });
    client.flush().unwrap();
    let record = mock.last().unwrap();
    assert!(record.flow_id.as_deref().unwrap().starts_with("signup-"));
    assert_eq!(data(&record)["flow"], json!("kept as data"));
}
