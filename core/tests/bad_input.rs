//! Arbitrary input through every entry point: a clear error or a valid
//! record, never a panic, and never a record the server would reject next
//! to good ones.

mod common;
mod double;

use double::MockTransport;
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use timber_core::record::validate;
use timber_core::{Level, LogEntry, LogOptions, RawFormat};

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,40}",
        "\\PC{0,200}",
        (0usize..12_000).prop_map(|n| "é".repeat(n)),
        Just(String::new()),
        Just("\u{0}\u{1b}[31m\r\n".to_owned()),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<f64>().prop_map(|f| json!(f)), // NaN and infinities become null
        any::<i64>().prop_map(|i| json!(i)),
        ".{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(8, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(".{0,8}", inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn deep(depth: usize) -> Value {
    (0..depth).fold(json!("bottom"), |v, _| json!({ "d": v }))
}

#[derive(Debug, Clone)]
struct Input {
    message: String,
    data: Value,
    tags: Vec<String>,
    user: Option<String>,
    step: Option<u32>,
    country: Option<String>,
}

fn input() -> impl Strategy<Value = Input> {
    (
        text(),
        prop_oneof![json_value(), (90usize..140).prop_map(deep)],
        prop::collection::vec(text(), 0..25),
        prop::option::of(text()),
        prop::option::of(any::<u32>()),
        prop::option::of(text()),
    )
        .prop_map(|(message, data, tags, user, step, country)| Input {
            message,
            data,
            tags,
            user,
            step,
            country,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn every_input_is_refused_clearly_or_sent_valid(inputs in prop::collection::vec(input(), 1..12)) {
        let mock = MockTransport::new();
        let (client, errors) = common::client(&mock);
        let mut expected_ok = 0;
        for i in &inputs {
            let mut entry = LogEntry::new(Level::Info, i.message.clone()).tags(i.tags.clone());
            entry.data = i.data.as_object().cloned();
            entry.user_id = i.user.clone();
            entry.step_index = i.step;
            entry.country = i.country.clone();
            match client.try_log(entry) {
                Ok(()) => expected_ok += 1,
                Err(e) => prop_assert!(!e.to_string().is_empty()),
            }
            // The chaining forms take the same input without panicking.
            client.info(i.message.clone(), &i.data, LogOptions::tags(i.tags.clone()));
            client.error(i.message.clone(), i.data.clone(), None);
        }
        client.flush().unwrap();
        for record in mock.records() {
            prop_assert_eq!(validate(&record), Ok(()));
        }
        // Every record's data the transport is given is a JSON object.
        for batch in mock.batches() {
            for record in batch.records() {
                if let Some(data) = record.data() {
                    prop_assert!(serde_json::from_str::<Value>(data.as_str()).is_ok_and(|v| v.is_object()));
                }
            }
        }
        let stats = client.stats();
        prop_assert!(stats.sent as usize >= expected_ok);
        prop_assert_eq!(stats.accepted + stats.invalid, 3 * inputs.len() as u64);
        prop_assert_eq!(errors.all().len() as u64, stats.invalid - (inputs.len() as u64 - expected_ok as u64));
    }

    #[test]
    fn raw_bodies_never_panic(body in "\\PC{0,300}", format in prop::sample::select(RawFormat::ALL.to_vec())) {
        let mock = MockTransport::new();
        let (client, _) = common::client(&mock);
        let _ = client.ingest_raw(&body, format, None);
    }
}

#[test]
fn non_finite_floats_become_null_not_corrupt_json() {
    let mock = MockTransport::new();
    let (client, _) = common::client(&mock);
    client.info(
        "floats",
        json!({"nan": f64::NAN, "inf": f64::INFINITY, "ok": 1.5}),
        None,
    );
    client.flush().unwrap();
    let data = mock.last().unwrap().data.unwrap();
    assert_eq!(
        Value::Object(data),
        json!({"nan": null, "inf": null, "ok": 1.5})
    );
}

#[test]
fn data_nested_past_the_limit_is_refused_with_its_depth() {
    let mock = MockTransport::new();
    let (client, errors) = common::client(&mock);
    client.info("deep", deep(150), None);
    client.info("fine", deep(50), None);
    client.flush().unwrap();
    assert_eq!(mock.count(), 1);
    assert_eq!(
        errors.messages(),
        ["invalid log record: data is nested too deep: 150 levels, the maximum is 100"]
    );
    let _: Map<String, Value> = mock.last().unwrap().data.unwrap();
}
