//! Serialize then parse gives back the same records, on every field each
//! format can carry (the projections below are the crate docs' list).

mod common;

use std::sync::Arc;

use proptest::prelude::*;
use timber_format::{parse, serialize, Format, Record};

const YEAR_0000: i64 = -62_167_219_200_000;
const YEAR_9999_END: i64 = 253_402_300_799_999;

fn in_iso_range(ts: Option<i64>) -> Option<i64> {
    ts.filter(|ms| (YEAR_0000..=YEAR_9999_END).contains(ms))
}

/// What a format carries of a record.
fn carried(format: Format, r: &Record) -> Record {
    match format {
        Format::Json | Format::Jsonl | Format::Obl => r.clone(),
        Format::Syslog => Record {
            timestamp: in_iso_range(r.timestamp),
            ..r.clone()
        },
        Format::Text => Record {
            timestamp: in_iso_range(r.timestamp),
            ..Record::new(
                r.level,
                r.message
                    .replace('\n', "\\n")
                    .replace('\r', "\\r")
                    .trim_start_matches([' ', '\t']),
            )
        },
        Format::Csv => {
            fn s(v: &Option<String>) -> Option<String> {
                v.clone().filter(|v| !v.is_empty())
            }
            fn a(v: &Option<Arc<str>>) -> Option<Arc<str>> {
                v.clone().filter(|v| !v.is_empty())
            }
            Record {
                source: a(&r.source),
                version: a(&r.version),
                user_id: a(&r.user_id),
                session_id: a(&r.session_id),
                request_id: s(&r.request_id),
                error_name: s(&r.error_name),
                error_stack: s(&r.error_stack),
                flow_id: a(&r.flow_id),
                dataset: a(&r.dataset),
                ip_address: s(&r.ip_address),
                country: s(&r.country),
                tags: r
                    .tags
                    .join(";")
                    .split(';')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect(),
                ..r.clone()
            }
        }
    }
}

/// OBL groups records by session, in order of first appearance.
fn grouped(records: &[Record]) -> Vec<Record> {
    let mut sessions: Vec<Option<Arc<str>>> = Vec::new();
    for r in records {
        if !sessions.contains(&r.session_id) {
            sessions.push(r.session_id.clone());
        }
    }
    sessions
        .iter()
        .flat_map(|s| records.iter().filter(move |r| &r.session_id == s).cloned())
        .collect()
}

fn round_trip(format: Format, records: &[Record]) -> Result<(), TestCaseError> {
    let body = serialize(records, format);
    let back = parse(&body, format).map_err(|e| TestCaseError::fail(format!("{e}\n{body}")))?;
    let mut expected: Vec<Record> = records.iter().map(|r| carried(format, r)).collect();
    if format == Format::Obl {
        expected = grouped(&expected);
    }
    prop_assert_eq!(back, expected, "body:\n{}", body);
    // The writer form writes the same bytes.
    let mut out = Vec::new();
    timber_format::serialize_to_writer(records, format, &mut out).unwrap();
    prop_assert_eq!(out, body.into_bytes());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn json(records in common::records()) { round_trip(Format::Json, &records)?; }

    #[test]
    fn jsonl(records in common::records()) { round_trip(Format::Jsonl, &records)?; }

    #[test]
    fn syslog(records in common::records()) { round_trip(Format::Syslog, &records)?; }

    #[test]
    fn text(records in common::records()) { round_trip(Format::Text, &records)?; }

    #[test]
    fn csv(records in common::records()) { round_trip(Format::Csv, &records)?; }

    #[test]
    fn obl(records in common::records()) { round_trip(Format::Obl, &records)?; }
}
