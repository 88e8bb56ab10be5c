//! The worker writes plain records straight into the batch body, from text
//! the caller rendered. These properties hold it to the reference: the
//! same record built whole (`LogEntry`) and serialized by serde.

mod common;
mod double;

use double::MockTransport;
use proptest::prelude::*;
use serde_json::{json, Value};
use timber_core::{Environment, Level, LogEntry, LogOptions, LogRecord};

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,30}",
        "\\PC{0,80}",
        Just(String::new()),
        Just("\"\\\u{0}\u{1f}\u{7f}\u{2028}é😀".to_owned()),
        (45usize..56).prop_map(|n| "t".repeat(n)),
    ]
}

/// JSON without floats (whose text does not always survive a parse and a
/// second serialization unchanged), from flat to past the depth limit.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        any::<u64>().prop_map(|u| json!(u)),
        text().prop_map(Value::String),
    ];
    let nested = leaf.prop_recursive(6, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(text(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    let deep = (95usize..106)
        .prop_map(|depth| (1..depth).fold(json!({"bottom": "[{\"[{"}), |v, _| json!({ "d": [v] })));
    prop_oneof![8 => nested, 1 => deep]
}

#[derive(Debug, Clone)]
struct Input {
    level: Level,
    message: String,
    data: Value,
    tags: Vec<String>,
}

fn input() -> impl Strategy<Value = Input> {
    (
        prop::sample::select(Level::ALL.to_vec()),
        text(),
        json_value(),
        prop::collection::vec(text(), 0..23),
    )
        .prop_map(|(level, message, data, tags)| Input {
            level,
            message,
            data,
            tags,
        })
}

fn without_timestamp(mut record: LogRecord) -> LogRecord {
    record.timestamp = None;
    record
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Each input is logged twice: through the plain path (`info` and
    /// friends) and as a whole `LogEntry`. Both are accepted or refused
    /// alike, arrive as the same record, and every batch body is exactly
    /// what serde writes for its records.
    #[test]
    fn plain_records_match_whole_entries_and_serde(
        inputs in prop::collection::vec(input(), 1..10),
        user in prop::option::of("[a-z0-9-]{1,20}"),
        batch_size in 1usize..5,
    ) {
        let mock = MockTransport::new();
        let errors = common::Errors::default();
        let client = common::builder(&mock, &errors)
            .environment(Environment::Staging)
            .version("2.0.1")
            .dataset("ds-1")
            .batch_size(batch_size)
            .build()
            .unwrap();
        client.set_user_id(user.as_deref());
        let mut accepted = 0;
        for i in &inputs {
            let before = client.stats().invalid;
            client.log_plain_for_test(i.level, &i.message, &i.data, &i.tags);
            let plain_ok = client.stats().invalid == before;
            let mut entry = LogEntry::new(i.level, i.message.clone()).tags(i.tags.clone());
            entry.data = match &i.data {
                Value::Null => None,
                Value::Object(map) => Some(map.clone()),
                _ => None,
            };
            let whole_ok = i.data.is_null() || i.data.is_object();
            let whole_ok = whole_ok && client.try_log(entry).is_ok();
            prop_assert_eq!(plain_ok, whole_ok, "{:?}", errors.messages());
            accepted += usize::from(plain_ok);
        }
        client.flush().unwrap();
        let records = mock.records();
        prop_assert_eq!(records.len(), 2 * accepted);
        for pair in records.chunks(2) {
            prop_assert_eq!(without_timestamp(pair[0].clone()), without_timestamp(pair[1].clone()));
            prop_assert_eq!(pair[0].user_id.as_deref(), user.as_deref());
            prop_assert_eq!(pair[0].dataset.as_deref(), Some("ds-1"));
        }
    }
}

/// `info`, `warn`, `debug` and `error` with data all take the plain path.
trait LogPlain {
    fn log_plain_for_test(&self, level: Level, message: &str, data: &Value, tags: &[String]);
}

impl LogPlain for timber_core::Client {
    fn log_plain_for_test(&self, level: Level, message: &str, data: &Value, tags: &[String]) {
        let options = LogOptions::tags(tags.iter().cloned());
        match level {
            Level::Debug => self.debug(message, data, options),
            Level::Info => self.info(message, data, options),
            Level::Warn => self.warn(message, data, options),
            Level::Error => self.error(message, data.clone(), options),
        };
    }
}
