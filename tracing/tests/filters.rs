//! The `tracing` layer costs nothing when off: callsites it does not want
//! are disabled (alone, or as a per-layer filter beside `fmt`), the fields
//! of disabled events and spans are never recorded, and the client's hooks
//! (sampling, redaction, `before_send`) apply to its events.

use std::fmt;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::json;
use timber_core::hooks::REDACTED;
use timber_core::{Client, ClientBuilder, Level};
use timber_tracing::TimberLayer;
use timber_transport_mock::MockTransport;
use tracing::level_filters::LevelFilter;
use tracing::Dispatch;
use tracing_core::callsite::Callsite;
use tracing_core::field::FieldSet;
use tracing_core::metadata::Kind;
use tracing_core::subscriber::Interest;
use tracing_core::Metadata;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer as _;

fn builder(mock: &MockTransport) -> ClientBuilder {
    Client::builder()
        .source("test-app")
        .api_key("tb_test_key")
        .batch_size(1000)
        .transport(mock.clone())
}

/// A TRACE event callsite of target `app`, registered by hand.
struct TraceSite;
static TRACE_SITE: TraceSite = TraceSite;
static TRACE_META: Metadata<'static> = Metadata::new(
    "a trace event",
    "app",
    tracing::Level::TRACE,
    None,
    None,
    None,
    FieldSet::new(&["value"], tracing_core::identify_callsite!(&TRACE_SITE)),
    Kind::EVENT,
);

impl Callsite for TraceSite {
    fn set_interest(&self, _: Interest) {}
    fn metadata(&self) -> &Metadata<'_> {
        &TRACE_META
    }
}

/// An INFO event callsite of an ignored target.
struct HyperSite;
static HYPER_SITE: HyperSite = HyperSite;
static HYPER_META: Metadata<'static> = Metadata::new(
    "an HTTP stack event",
    "hyper::proto::h1",
    tracing::Level::INFO,
    None,
    None,
    None,
    FieldSet::new(&[], tracing_core::identify_callsite!(&HYPER_SITE)),
    Kind::EVENT,
);

impl Callsite for HyperSite {
    fn set_interest(&self, _: Interest) {}
    fn metadata(&self) -> &Metadata<'_> {
        &HYPER_META
    }
}

#[test]
fn a_trace_callsite_is_disabled_with_min_level_info() {
    let mock = MockTransport::new();
    let client = builder(&mock).min_level(Level::Info).build().unwrap();

    // The layer alone: what it does not want is disabled for good.
    let alone = tracing_subscriber::registry().with(TimberLayer::new(client.clone()));
    assert_eq!(
        tracing::Subscriber::max_level_hint(&alone),
        Some(LevelFilter::INFO)
    );
    let alone = Dispatch::new(alone);
    assert!(alone.register_callsite(&TRACE_META).is_never());
    assert!(alone.register_callsite(&HYPER_META).is_never());
    assert!(!alone.enabled(&TRACE_META));
    tracing::dispatcher::with_default(&alone, || {
        assert!(!tracing::enabled!(tracing::Level::TRACE));
        assert!(!tracing::enabled!(tracing::Level::DEBUG));
        assert!(tracing::enabled!(tracing::Level::INFO));
    });

    // As a per-layer filter, alone or beside a layer that does not want it either.
    let filtered = tracing_subscriber::registry().with(TimberLayer::new(client.clone()).filtered());
    assert_eq!(
        tracing::Subscriber::max_level_hint(&filtered),
        Some(LevelFilter::INFO)
    );
    let filtered = Dispatch::new(filtered);
    assert!(filtered.register_callsite(&TRACE_META).is_never());
    let console_at_info = tracing_subscriber::fmt::layer()
        .with_writer(io::sink)
        .with_filter(LevelFilter::INFO);
    let beside = Dispatch::new(
        tracing_subscriber::registry()
            .with(console_at_info)
            .with(TimberLayer::new(client.clone()).filtered()),
    );
    assert!(beside.register_callsite(&TRACE_META).is_never());

    // Beside a console that wants it, the callsite stays enabled (for the console).
    let console_at_trace = tracing_subscriber::fmt::layer().with_writer(io::sink);
    let beside_verbose = Dispatch::new(
        tracing_subscriber::registry()
            .with(console_at_trace)
            .with(TimberLayer::new(client.clone()).filtered()),
    );
    assert!(!beside_verbose.register_callsite(&TRACE_META).is_never());
}

/// Counts how often its `Debug` runs: a field that is recorded runs it.
#[derive(Clone, Default)]
struct Counted(Arc<AtomicUsize>);

impl fmt::Debug for Counted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fetch_add(1, Ordering::SeqCst);
        f.write_str("counted")
    }
}

#[test]
fn fields_of_disabled_events_and_spans_are_never_recorded() {
    let mock = MockTransport::new();
    let client = builder(&mock).min_level(Level::Info).build().unwrap();
    let counted = Counted::default();
    for layer in [
        Dispatch::new(tracing_subscriber::registry().with(TimberLayer::new(client.clone()))),
        Dispatch::new(
            tracing_subscriber::registry().with(TimberLayer::new(client.clone()).filtered()),
        ),
    ] {
        tracing::dispatcher::with_default(&layer, || {
            tracing::trace!(value = ?counted, "a trace event");
            tracing::debug!(value = ?counted, "a debug event");
            let span = tracing::debug_span!("a debug span", value = ?counted, flow = "never");
            let _inside = span.enter();
            tracing::info!(kept = 1, "inside a disabled span");
        });
    }
    client.flush().unwrap();
    assert_eq!(counted.0.load(Ordering::SeqCst), 0);
    let records = mock.records();
    assert_eq!(records.len(), 2);
    for record in records {
        assert_eq!(record.message, "inside a disabled span");
        assert_eq!(
            serde_json::Value::Object(record.data.unwrap()),
            json!({"kept": 1})
        );
        assert_eq!(record.flow_id, None);
    }
}

/// A console's output, captured.
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

impl Console {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

#[test]
fn beside_fmt_the_filtered_layer_leaves_the_console_every_event() {
    let mock = MockTransport::new();
    let client = builder(&mock).min_level(Level::Info).build().unwrap();
    let console = Console::default();
    let writer = console.clone();
    let subscriber = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(move || writer.clone()),
        )
        .with(TimberLayer::new(client.clone()).filtered());
    tracing::subscriber::with_default(subscriber, || {
        tracing::trace!("console trace");
        tracing::debug!("console debug");
        tracing::info!(port = 8080, "both");
        tracing::info!(target: "hyper::client", "console only: an ignored target");
    });
    client.flush().unwrap();
    let text = console.text();
    for line in [
        "console trace",
        "console debug",
        "both",
        "an ignored target",
    ] {
        assert!(text.contains(line), "{line} missing from {text}");
    }
    let messages: Vec<String> = mock.records().into_iter().map(|r| r.message).collect();
    assert_eq!(messages, ["both"]);
}

#[test]
fn target_and_module_are_data_only_when_asked_for() {
    let mock = MockTransport::new();
    let client = builder(&mock).build().unwrap();
    let plain =
        Dispatch::new(tracing_subscriber::registry().with(TimberLayer::new(client.clone())));
    let origin = Dispatch::new(
        tracing_subscriber::registry().with(
            TimberLayer::new(client.clone())
                .with_target(true)
                .with_module(true),
        ),
    );
    tracing::dispatcher::with_default(&plain, || tracing::info!(a = 1, "plain"));
    tracing::dispatcher::with_default(&origin, || {
        tracing::info!(target: "billing", a = 1, "with origin");
        tracing::info!(target = "a field wins", "field named target");
    });
    client.flush().unwrap();
    let records = mock.records();
    assert_eq!(
        serde_json::Value::Object(records[0].data.clone().unwrap()),
        json!({"a": 1})
    );
    assert_eq!(
        serde_json::Value::Object(records[1].data.clone().unwrap()),
        json!({"a": 1, "target": "billing", "module": module_path!()})
    );
    assert_eq!(
        records[2].data.as_ref().unwrap()["target"],
        json!("a field wins")
    );
}

#[test]
fn the_client_s_hooks_apply_to_layer_events() {
    // Redaction, in event and span fields.
    let mock = MockTransport::new();
    let client = builder(&mock).build().unwrap();
    let layer =
        Dispatch::new(tracing_subscriber::registry().with(TimberLayer::new(client.clone())));
    tracing::dispatcher::with_default(&layer, || {
        let span = tracing::info_span!("request", authorization = "Bearer abc", path = "/");
        let _inside = span.enter();
        tracing::info!(password = "hunter2", user = "ada", "signed in");
    });
    client.flush().unwrap();
    assert_eq!(
        serde_json::Value::Object(mock.last().unwrap().data.unwrap()),
        json!({"password": REDACTED, "user": "ada", "authorization": REDACTED, "path": "/"})
    );

    // Sampling and before_send.
    let mock = MockTransport::new();
    let client = builder(&mock)
        .sample_rate(Level::Debug, 0.0)
        .before_send(|mut record| {
            if record.message() == "drop" {
                return None;
            }
            record.tags_mut().push("hooked".into());
            Some(record)
        })
        .build()
        .unwrap();
    let layer =
        Dispatch::new(tracing_subscriber::registry().with(TimberLayer::new(client.clone())));
    tracing::dispatcher::with_default(&layer, || {
        tracing::debug!("sampled out");
        tracing::info!("drop");
        tracing::info!(n = 1, "kept");
    });
    client.flush().unwrap();
    let records = mock.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].message, "kept");
    assert_eq!(records[0].tags, ["hooked"]);
    assert_eq!(records[0].data.as_ref().unwrap()["n"], json!(1));
}

#[test]
fn odd_text_and_numbers_survive_the_direct_writer() {
    let mock = MockTransport::new();
    let client = builder(&mock).build().unwrap();
    let layer =
        Dispatch::new(tracing_subscriber::registry().with(TimberLayer::new(client.clone())));
    tracing::dispatcher::with_default(&layer, || {
        tracing::info!(
            quote = "a \"quoted\" \\ line\nbreak\u{1}",
            shown = ?("tuple", 1),
            big = u128::MAX,
            neg = i128::MIN,
            nan = f64::NAN,
            "ünïcødé message ✓"
        );
        tracing::info!(empty = "");
    });
    client.flush().unwrap();
    let records = mock.records();
    assert_eq!(records[0].message, "ünïcødé message ✓");
    let d = records[0].data.as_ref().unwrap();
    assert_eq!(d["quote"], json!("a \"quoted\" \\ line\nbreak\u{1}"));
    assert_eq!(d["shown"], json!("(\"tuple\", 1)"));
    assert_eq!(d["big"], json!(u128::MAX.to_string()));
    assert_eq!(d["neg"], json!(i128::MIN.to_string()));
    assert_eq!(d["nan"], json!("NaN"));
    assert!(records[1].message.starts_with("event "));
    assert_eq!(records[1].data.as_ref().unwrap()["empty"], json!(""));
    assert_eq!(client.stats().invalid, 0);
}

#[test]
fn a_layer_event_is_the_record_the_native_call_makes() {
    let mock = MockTransport::new();
    let client = builder(&mock).build().unwrap();
    client.info(
        "request served",
        json!({"status": 200, "route": "/v1/orders", "cached": true}),
        None,
    );
    let layer =
        Dispatch::new(tracing_subscriber::registry().with(TimberLayer::new(client.clone())));
    tracing::dispatcher::with_default(&layer, || {
        tracing::info!(
            status = 200,
            route = "/v1/orders",
            cached = true,
            "request served"
        );
    });
    client.flush().unwrap();
    let mut records = mock.records();
    assert_eq!(records.len(), 2);
    for record in &mut records {
        record.timestamp = None;
    }
    assert_eq!(records[0], records[1]);
    // No origin added: the same bytes on the wire.
    let sizes: Vec<usize> = records
        .iter()
        .map(|r| serde_json::to_vec(r).unwrap().len())
        .collect();
    assert_eq!(sizes[0], sizes[1]);
}
