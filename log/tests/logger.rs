//! The `log` bridge: records through the `log` macros (global logger) and
//! through a logger value arrive in the mock as the expected records.
//!
//! The global logger can be set once per process, so one test owns it; the
//! others call `Log::log` on their own logger.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use log::{Log, Record};
use serde_json::json;
use timber_core::{Client, ClientBuilder, Level, LogRecord};
use timber_log::TimberLogger;
use timber_transport_mock::MockTransport;

fn builder(mock: &MockTransport) -> ClientBuilder {
    Client::builder()
        .source("test-app")
        .api_key("tb_test_key")
        .flush_interval(Duration::from_secs(3600))
        .batch_size(100)
        .transport(mock.clone())
}

fn data(record: &LogRecord) -> &serde_json::Map<String, serde_json::Value> {
    record.data.as_ref().expect("the record has data")
}

#[test]
fn the_log_macros_reach_the_client_once_installed() {
    let mock = MockTransport::new();
    let client = builder(&mock).min_level(Level::Info).build().unwrap();
    TimberLogger::new(client.clone())
        .with_target(true)
        .with_module(true)
        .try_init()
        .unwrap();
    assert_eq!(log::max_level(), log::LevelFilter::Info);

    log::trace!("skipped");
    log::debug!("skipped");
    log::info!(user = 42, admin = true; "user {} signed in", "ada");
    log::warn!(target: "billing::invoices", "slow invoice");
    log::error!("failed");
    client.flush().unwrap();

    let records = mock.records();
    let seen: Vec<_> = records
        .iter()
        .map(|r| (r.level, r.message.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            (Level::Info, "user ada signed in"),
            (Level::Warn, "slow invoice"),
            (Level::Error, "failed")
        ]
    );
    let info = data(&records[0]);
    assert_eq!(info["user"], json!(42));
    assert_eq!(info["admin"], json!(true));
    assert_eq!(info["target"], json!(module_path!()));
    assert_eq!(info["module"], json!(module_path!()));
    assert_eq!(data(&records[1])["target"], json!("billing::invoices"));

    // A second logger cannot replace the first.
    let other = builder(&MockTransport::new()).build().unwrap();
    assert!(TimberLogger::new(other).try_init().is_err());
}

#[test]
fn trace_and_debug_become_debug_and_max_level_follows_min_level() {
    let mock = MockTransport::new();
    let client = builder(&mock).min_level(Level::Debug).build().unwrap();
    let logger = TimberLogger::new(client.clone());
    assert_eq!(logger.max_level(), log::LevelFilter::Trace);
    logger.log(
        &Record::builder()
            .level(log::Level::Trace)
            .target("app")
            .args(format_args!("a trace"))
            .build(),
    );
    logger.log(
        &Record::builder()
            .level(log::Level::Debug)
            .target("app")
            .args(format_args!("a debug"))
            .build(),
    );
    client.flush().unwrap();
    assert!(mock.records().iter().all(|r| r.level == Level::Debug));
    assert_eq!(mock.count(), 2);

    let warn_only = builder(&mock).min_level(Level::Warn).build().unwrap();
    assert_eq!(
        TimberLogger::new(warn_only).max_level(),
        log::LevelFilter::Warn
    );
}

#[test]
fn key_values_keep_their_json_types_and_errors_fill_error_fields() {
    let mock = MockTransport::new();
    let client = builder(&mock).build().unwrap();
    let logger = TimberLogger::new(client.clone())
        .with_target(true)
        .with_module(true);
    let parse = "x".parse::<u8>().unwrap_err();
    let err: &(dyn std::error::Error + 'static) = &parse;
    let kvs: &[(&str, log::kv::Value)] = &[
        ("count", log::kv::Value::from(3u64)),
        ("delta", log::kv::Value::from(-2i64)),
        ("ratio", log::kv::Value::from(0.25f64)),
        ("name", log::kv::Value::from("ada")),
        ("err", log::kv::Value::from_dyn_error(err)),
    ];
    logger.log(
        &Record::builder()
            .level(log::Level::Error)
            .target("app::db")
            .module_path(Some("app::db::pool"))
            .args(format_args!("query failed"))
            .key_values(&kvs)
            .build(),
    );
    client.flush().unwrap();
    let record = mock.last().unwrap();
    let d = data(&record);
    assert_eq!(d["count"], json!(3));
    assert_eq!(d["delta"], json!(-2));
    assert_eq!(d["ratio"], json!(0.25));
    assert_eq!(d["name"], json!("ada"));
    assert_eq!(d["err"], json!("invalid digit found in string"));
    assert_eq!(d["target"], json!("app::db"));
    assert_eq!(d["module"], json!("app::db::pool"));
    assert_eq!(record.error_name.as_deref(), Some("ParseIntError"));
    assert!(record
        .error_stack
        .as_deref()
        .unwrap()
        .starts_with("ParseIntError: invalid digit found in string"));
}

#[test]
fn target_and_module_are_data_only_when_asked_for() {
    let mock = MockTransport::new();
    let client = builder(&mock).build().unwrap();
    let record = |logger: &TimberLogger, kvs: &[(&str, &str)]| {
        logger.log(
            &Record::builder()
                .level(log::Level::Info)
                .target("app::db")
                .module_path(Some("app::db::pool"))
                .args(format_args!("m"))
                .key_values(&kvs)
                .build(),
        );
        client.flush().unwrap();
        mock.last().unwrap()
    };
    let plain = TimberLogger::new(client.clone());
    assert_eq!(record(&plain, &[]).data, None);
    assert_eq!(
        data(&record(&plain, &[("user", "ada")]))
            .keys()
            .collect::<Vec<_>>(),
        ["user"]
    );
    let both = TimberLogger::new(client.clone())
        .with_target(true)
        .with_module(true);
    let with_origin = record(&both, &[("target", "a field wins")]);
    assert_eq!(data(&with_origin)["target"], json!("a field wins"));
    assert_eq!(data(&with_origin)["module"], json!("app::db::pool"));
}

#[test]
fn sdk_targets_sdk_threads_and_empty_messages() {
    let mock = MockTransport::new();
    let client = builder(&mock).build().unwrap();
    let logger = Arc::new(TimberLogger::new(client.clone()).ignore_target("noisy"));
    let record = |target: &'static str| {
        let logger = logger.clone();
        move || {
            logger.log(
                &Record::builder()
                    .level(log::Level::Info)
                    .target(target)
                    .args(format_args!("from {target}"))
                    .build(),
            )
        }
    };
    record("hyper::client")();
    record("rustls::conn")();
    record("noisy::part")();
    record("app")();
    // A thread the SDK marked as its own; the name alone is not enough.
    let on_sdk_thread = record("app");
    std::thread::spawn(move || {
        timber_core::integration::mark_sdk_thread();
        on_sdk_thread()
    })
    .join()
    .unwrap();
    std::thread::Builder::new()
        .name("timber-app".into())
        .spawn(record("app-thread"))
        .unwrap()
        .join()
        .unwrap();
    assert!(!logger.enabled(&log::Metadata::builder().target("tokio").build()));
    assert!(logger.enabled(&log::Metadata::builder().target("app").build()));

    logger.log(
        &Record::builder()
            .level(log::Level::Info)
            .target("app::empty")
            .args(format_args!(""))
            .build(),
    );
    client.flush().unwrap();
    let messages: Vec<_> = mock.records().into_iter().map(|r| r.message).collect();
    assert_eq!(messages, ["from app", "from app-thread", "app::empty"]);
}

#[test]
fn logging_from_on_error_does_not_loop_back() {
    let mock = MockTransport::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let logger = Arc::new(std::sync::OnceLock::<TimberLogger>::new());
    let inner = logger.clone();
    let client = builder(&mock)
        .on_error(move |e| {
            seen.fetch_add(1, Ordering::SeqCst);
            // Runs on the caller's thread, inside the bridge.
            if let Some(logger) = inner.get() {
                logger.log(
                    &Record::builder()
                        .level(log::Level::Error)
                        .args(format_args!("the SDK refused a record: {e}"))
                        .build(),
                );
            }
        })
        .build()
        .unwrap();
    let _ = logger.set(TimberLogger::new(client.clone()));
    client.disconnect().unwrap();
    logger.get().unwrap().log(
        &Record::builder()
            .level(log::Level::Info)
            .args(format_args!("refused: the client is closed"))
            .build(),
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(mock.count(), 0);
}
