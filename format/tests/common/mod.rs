//! Record generators shared by the property tests.
#![allow(dead_code)]

use std::sync::Arc;

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use serde_json::{Map, Value};
use timber_core::{Environment, Level};
use timber_format::Record;

/// Text with the characters that stress each format's escaping.
pub fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9 ._:/-]{0,24}",
        2 => "[ -~]{0,24}",
        2 => "[a-z,;\"'\\\\\\]\\[=<>{}\n\r\t \u{feff}é日-]{0,24}",
        1 => any::<String>(),
    ]
}

pub fn non_empty_text() -> impl Strategy<Value = String> {
    text().prop_filter("non-empty", |s| !s.is_empty())
}

fn shared() -> impl Strategy<Value = Option<Arc<str>>> {
    proptest::option::of(non_empty_text().prop_map(Arc::from))
}

fn owned() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(non_empty_text())
}

fn level() -> impl Strategy<Value = Level> {
    prop::sample::select(Level::ALL.to_vec())
}

/// Timestamps mostly within the years 0000-9999, sometimes anywhere.
fn timestamp() -> impl Strategy<Value = Option<i64>> {
    proptest::option::of(prop_oneof![
        8 => -62_167_219_200_000i64..=253_402_300_799_999,
        1 => any::<i64>(),
    ])
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..3).prop_map(Value::from),
            btree_map("[a-z]{1,5}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Data keys, including the names formats interpret specially.
fn data_key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z_]{1,10}",
        2 => prop::sample::select(vec![
            "type", "hostname", "procid", "msgid", "facility", "severity", "label", "text",
            "action", "id", "data", "level", "user_id", "timestamp", "message", "msg",
            "timber@32473", "source",
        ]).prop_map(str::to_owned),
        1 => text(),
    ]
}

fn data_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => json_value(),
        1 => prop::sample::select(vec![
            "local4", "user", "kern", "notice", "crit", "info", "warning", "button", "note",
            "action", "utterance", "-", "db-1", "1234",
        ]).prop_map(Value::from),
    ]
}

fn data() -> impl Strategy<Value = Option<Map<String, Value>>> {
    proptest::option::of(
        btree_map(data_key(), data_value(), 0..4).prop_map(|m| m.into_iter().collect()),
    )
}

pub fn record() -> impl Strategy<Value = Record> {
    (
        (
            level(),
            text(),
            shared(),
            proptest::option::of(prop::sample::select(vec![
                Environment::Development,
                Environment::Staging,
                Environment::Production,
            ])),
            shared(),
            shared(),
            shared(),
        ),
        (
            owned(),
            data(),
            owned(),
            owned(),
            vec(non_empty_text(), 0..3),
        ),
        (
            shared(),
            proptest::option::of(any::<u32>()),
            shared(),
            timestamp(),
            owned(),
            owned(),
        ),
    )
        .prop_map(
            |(
                (level, message, source, environment, version, user_id, session_id),
                (request_id, data, error_name, error_stack, tags),
                (flow_id, step_index, dataset, timestamp, ip_address, country),
            )| Record {
                level,
                message,
                source,
                environment,
                version,
                user_id,
                session_id,
                request_id,
                data,
                error_name,
                error_stack,
                tags,
                flow_id,
                step_index,
                dataset,
                timestamp,
                ip_address,
                country,
            },
        )
}

/// Records sharing a few user and session ids, as real batches do.
pub fn records() -> impl Strategy<Value = Vec<Record>> {
    (
        vec(record(), 0..8),
        proptest::option::of("[a-z0-9]{1,6}"),
        vec(proptest::option::of("s[0-9]"), 1..3),
    )
        .prop_map(|(mut records, user, sessions)| {
            for (i, r) in records.iter_mut().enumerate() {
                if i % 2 == 0 {
                    r.user_id = user.as_deref().map(Arc::from);
                    r.session_id = sessions[i % sessions.len()].as_deref().map(Arc::from);
                }
            }
            records
        })
}
