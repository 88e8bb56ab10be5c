//! Unit tests of [`Record`](super::Record): the wire form, the size estimate, the footprint.

use super::*;
use serde_json::json;

#[test]
fn a_record_and_its_wire_form_carry_the_same_fields() {
    let wire = LogRecord {
        user_id: Some("u".into()),
        request_id: Some("r".into()),
        data: json!({"k": [1, "two"]}).as_object().cloned(),
        error_name: Some("E".into()),
        error_stack: Some("E: boom".into()),
        tags: vec!["t".into()],
        flow_id: Some("f-12345678".into()),
        step_index: Some(3),
        dataset: Some("d".into()),
        timestamp: Some(1_700_000_000_000),
        ip_address: Some("10.0.0.1".into()),
        country: Some("NL".into()),
        ..LogRecord::new(Level::Error, "failed")
    };
    let record = Record::from(wire.clone());
    assert_eq!(record.to_log_record(), wire);
    assert_eq!(record.data().unwrap().as_str(), r#"{"k":[1,"two"]}"#);
}

#[test]
fn the_size_bounds_the_json_of_a_full_record() {
    let data = json!({"user": {"name": "ada", "tags": ["a", "bb"], "n": 12345}, "ok": true});
    let wire = LogRecord {
        data: data.as_object().cloned(),
        error_stack: Some("x\n".repeat(250)),
        tags: vec!["a\"b".into()],
        user_id: Some("u-1".into()),
        ..LogRecord::new(Level::Error, "failed \"quoted\"")
    };
    let json = serde_json::to_vec(&wire).unwrap().len();
    let size = Record::from(wire).size();
    assert!(
        size >= json && size <= json + 2 * FRAME_BYTES,
        "{size} vs {json}"
    );
}

#[test]
fn a_plain_record_stays_small() {
    let size = std::mem::size_of::<Record>();
    assert!(size <= 208, "{size}");
}
