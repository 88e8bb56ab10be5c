//! `error()` takes errors as Rust programs hold them (references, boxes,
//! trait objects, `anyhow` and `eyre` with their features) and names each
//! by its concrete type (an `anyhow`/`eyre` chain by its root cause); it takes the same data as `info()`; and its
//! records carry a backtrace by default, resolved by the worker.

mod common;
mod double;

use std::collections::HashMap;
use std::fmt;

use double::MockTransport;
use serde::Serialize;
use serde_json::json;
use timber_core::{BacktraceMode, Client, ErrorPayload, Level, LogRecord};

#[derive(Debug)]
struct DbError {
    table: &'static str,
    source: std::io::Error,
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot read table {}", self.table)
    }
}

impl std::error::Error for DbError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

#[derive(Debug)]
enum AppError {
    NotFound { id: u32 },
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::NotFound { id } => write!(f, "no item {id}"),
        }
    }
}

impl std::error::Error for AppError {}

fn db_error() -> DbError {
    DbError {
        table: "users",
        source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
    }
}

fn logged(configure: impl FnOnce(&Client)) -> Vec<LogRecord> {
    logged_with(BacktraceMode::Never, configure)
}

fn logged_with(mode: BacktraceMode, configure: impl FnOnce(&Client)) -> Vec<LogRecord> {
    let mock = MockTransport::new();
    let errors = common::Errors::default();
    let client = common::builder(&mock, &errors)
        .backtrace(mode)
        .build()
        .unwrap();
    configure(&client);
    client.flush().unwrap();
    assert!(errors.all().is_empty(), "{:?}", errors.messages());
    mock.records()
}

fn names(records: &[LogRecord]) -> Vec<Option<&str>> {
    records.iter().map(|r| r.error_name.as_deref()).collect()
}

#[test]
fn boxed_and_borrowed_errors_are_named_by_their_concrete_type() {
    let records = logged(|client| {
        let send_sync: Box<dyn std::error::Error + Send + Sync> = Box::new(db_error());
        let plain: Box<dyn std::error::Error> = Box::new(AppError::NotFound { id: 7 });
        let parse: Box<dyn std::error::Error + Send + Sync> = "x".parse::<u8>().unwrap_err().into();
        let text: Box<dyn std::error::Error + Send + Sync> = "just text".into();
        client
            .error("by reference", &db_error(), None)
            .error("boxed, borrowed", &send_sync, None)
            .error("boxed", send_sync, None)
            .error("plain box", plain, None)
            .error("std type in a box", parse, None)
            .error("io", &std::io::Error::other("disk"), None)
            .error("a string made an error", text, None);
        let object: &(dyn std::error::Error + 'static) = &AppError::NotFound { id: 8 };
        client.error("trait object", object, None);
    });
    assert_eq!(
        names(&records),
        [
            Some("DbError"),
            Some("DbError"),
            Some("DbError"),
            Some("NotFound"),
            Some("ParseIntError"),
            Some("io::Error"),
            Some("Error"),
            Some("NotFound"),
        ]
    );
    // Name, message, and the cause chain, whatever the form.
    for record in &records[..3] {
        assert_eq!(
            record.error_stack.as_deref(),
            Some("DbError: cannot read table users\n\nCaused by:\n  0: no such file")
        );
        assert_eq!(
            record.data.as_ref().unwrap()["message"],
            json!("cannot read table users")
        );
    }
}

#[derive(Serialize)]
struct Attempt {
    user: &'static str,
    tries: u32,
}

#[test]
fn error_takes_the_same_data_as_info() {
    let map = HashMap::from([("code".to_owned(), 42)]);
    let records = logged(|client| {
        client
            .error(
                "struct",
                Attempt {
                    user: "ada",
                    tries: 3,
                },
                None,
            )
            .error(
                "struct by reference",
                &Attempt {
                    user: "bob",
                    tries: 1,
                },
                None,
            )
            .error("map by reference", &map, None)
            .error("json", json!({"k": "v"}), None)
            .error("nothing", (), None)
            .info(
                "struct",
                Attempt {
                    user: "ada",
                    tries: 3,
                },
                None,
            );
    });
    assert!(records[..5].iter().all(|r| r.level == Level::Error));
    assert!(records.iter().all(|r| r.error_name.is_none()));
    assert_eq!(records[0].data, records[5].data);
    assert_eq!(records[0].data.as_ref().unwrap()["tries"], json!(3));
    assert_eq!(records[1].data.as_ref().unwrap()["user"], json!("bob"));
    assert_eq!(records[2].data.as_ref().unwrap()["code"], json!(42));
    assert_eq!(records[3].data.as_ref().unwrap()["k"], json!("v"));
    assert_eq!(records[4].data, None);
}

#[test]
fn data_that_is_not_an_object_is_refused_as_with_info() {
    let mock = MockTransport::new();
    let (client, errors) = common::client(&mock);
    client.error("a list", vec![1, 2], None).flush().unwrap();
    assert_eq!(mock.count(), 0);
    assert_eq!(
        errors.messages(),
        ["invalid log data: data must be a JSON object, got an array"]
    );
}

#[test]
fn a_payload_built_by_hand_keeps_its_name() {
    let records = logged(|client| {
        let payload = ErrorPayload::from_error(&db_error(), "Storage");
        client.error("custom", payload, None);
    });
    assert_eq!(names(&records), [Some("Storage")]);
}

#[inline(never)]
fn handle_request(client: &Client) {
    let err = "x".parse::<u8>().unwrap_err();
    client.error("request failed", &err, None);
}

#[test]
fn error_stacks_hold_the_frames_by_default() {
    let mock = MockTransport::new();
    let client = Client::builder()
        .source("s")
        .api_key("k")
        .transport(mock.clone())
        .build()
        .unwrap();
    handle_request(&client);
    client.error("data only: no backtrace", json!({"k": 1}), None);
    client.flush().unwrap();
    let records = mock.records();
    let stack = records[0].error_stack.as_deref().unwrap();
    assert!(
        stack.starts_with("ParseIntError: invalid digit found in string\n\nBacktrace:\n"),
        "{stack}"
    );
    assert!(stack.contains("handle_request"), "{stack}");
    assert!(
        stack.contains("error_stacks_hold_the_frames_by_default"),
        "{stack}"
    );
    // The SDK's own frames are left out.
    assert!(!stack.contains("timber_core::"), "{stack}");
    assert!(stack.chars().count() <= timber_core::record::limits::ERROR_STACK);
    assert_eq!(records[1].error_stack, None);
}

#[test]
fn flows_carry_backtraces_too_and_never_turns_them_off() {
    let records = logged_with(BacktraceMode::Always, |client| {
        let flow = client.flow("job").unwrap();
        flow.error("step failed", &db_error(), None);
    });
    let stack = records[0].error_stack.as_deref().unwrap();
    assert!(stack.contains("\n\nBacktrace:\n"), "{stack}");
    assert!(stack.contains("flows_carry_backtraces_too"), "{stack}");
    assert_eq!(records[0].step_index, Some(0));

    let records = logged_with(BacktraceMode::Never, |client| {
        handle_request(client);
    });
    assert_eq!(
        records[0].error_stack.as_deref(),
        Some("ParseIntError: invalid digit found in string")
    );
}

#[test]
fn an_error_below_min_level_is_not_described() {
    let mock = MockTransport::new();
    let client = Client::builder()
        .source("s")
        .api_key("k")
        .min_level(Level::Error)
        .transport(mock.clone())
        .build()
        .unwrap();
    client.error("kept", &db_error(), None).flush().unwrap();
    assert_eq!(mock.count(), 1);
}

#[cfg(feature = "anyhow")]
#[test]
fn anyhow_errors_are_taken_as_they_are_and_named_by_their_root_cause() {
    use anyhow::Context as _;

    let records = logged(|client| {
        let chained: anyhow::Error = Err::<(), _>(db_error())
            .context("loading the profile")
            .unwrap_err();
        let parse = anyhow::Error::from("x".parse::<u8>().unwrap_err());
        let adhoc = anyhow::anyhow!("quota exceeded for {}", "ada");
        client
            .error("borrowed", &chained, None)
            .error("owned", chained, None)
            .error("std root", parse, None)
            .error("ad hoc", &adhoc, None);
    });
    assert_eq!(
        names(&records),
        [
            Some("io::Error"),
            Some("io::Error"),
            Some("ParseIntError"),
            Some("anyhow::Error")
        ]
    );
    assert_eq!(
        records[0].error_stack.as_deref(),
        Some(
            "io::Error: loading the profile\n\nCaused by:\n  0: cannot read table users\n  1: no such file"
        )
    );
    assert_eq!(
        records[0].data.as_ref().unwrap()["message"],
        json!("loading the profile")
    );
}

#[cfg(feature = "eyre")]
#[test]
fn eyre_reports_are_taken_as_they_are_and_named_by_their_root_cause() {
    use eyre::WrapErr as _;

    let records = logged(|client| {
        let chained: eyre::Report = Err::<(), _>(db_error())
            .wrap_err("loading the profile")
            .unwrap_err();
        let adhoc = eyre::eyre!("quota exceeded");
        client
            .error("borrowed", &chained, None)
            .error("owned", chained, None)
            .error("ad hoc", adhoc, None);
    });
    assert_eq!(
        names(&records),
        [Some("io::Error"), Some("io::Error"), Some("eyre::Report")]
    );
    assert!(records[0]
        .error_stack
        .as_deref()
        .unwrap()
        .starts_with("io::Error: loading the profile\n\nCaused by:\n  0: cannot read table users"));
}
