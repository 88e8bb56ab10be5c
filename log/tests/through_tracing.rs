//! `log` records in a program that uses `tracing`: with the logger handing
//! records on to `tracing` (in place of `tracing-log`'s `LogTracer`, which
//! drops key-values), they reach Timber once, with their key-values, and
//! the console layer beside it still prints them.
//!
//! The global logger and subscriber are set once per process: one test.

use std::io;
use std::sync::{Arc, Mutex};

use serde_json::json;
use timber_core::{Client, Level};
use timber_log::TimberLogger;
use timber_tracing::TimberLayer;
use timber_transport_mock::MockTransport;
use tracing_subscriber::layer::SubscriberExt;

#[derive(Clone, Default)]
struct Console(Arc<Mutex<Vec<u8>>>);

impl io::Write for Console {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn log_key_values_survive_the_route_through_tracing() {
    let mock = MockTransport::new();
    let client = Client::builder()
        .source("svc")
        .api_key("tb_test_key")
        .min_level(Level::Info)
        .transport(mock.clone())
        .build()
        .unwrap();
    let console = Console::default();
    let writer = console.clone();
    let subscriber = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(move || writer.clone()),
        )
        .with(TimberLayer::new(client.clone()).filtered());
    tracing::subscriber::set_global_default(subscriber).unwrap();
    TimberLogger::new(client.clone())
        .forward_to_tracing(true)
        .try_init()
        .unwrap();
    // The console wants debug records: `log` lets them through.
    assert_eq!(log::max_level(), log::LevelFilter::Trace);

    log::info!(user = 42, admin = true, password = "hunter2"; "user {} signed in", "ada");
    log::debug!(cache = "miss"; "below Timber's min_level");
    tracing::info!(port = 8080, "a tracing event");
    client.flush().unwrap();

    let records = mock.records();
    let messages: Vec<&str> = records.iter().map(|r| r.message.as_str()).collect();
    assert_eq!(
        messages,
        ["user ada signed in", "a tracing event"],
        "once each"
    );
    assert_eq!(
        serde_json::Value::Object(records[0].data.clone().unwrap()),
        json!({"user": 42, "admin": true, "password": "[REDACTED]"})
    );
    assert_eq!(records[1].data.as_ref().unwrap()["port"], json!(8080));

    let text = String::from_utf8(console.0.lock().unwrap().clone()).unwrap();
    for line in [
        "user ada signed in",
        "below Timber's min_level",
        "a tracing event",
    ] {
        assert!(
            text.contains(line),
            "{line} missing from the console: {text}"
        );
    }
}
