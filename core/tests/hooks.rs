//! Keeping secrets and noise out of what leaves the process: `before_send`
//! edits or drops records before they are queued, data keys are redacted
//! (a default list, changeable), and levels are sampled.

mod common;
mod double;

use double::MockTransport;
use serde::Serialize;
use serde_json::json;
use timber_core::hooks::{DEFAULT_REDACTED_KEYS, REDACTED};
use timber_core::{Client, Error, Level, LogEntry, LogOptions};

#[test]
fn before_send_edits_and_drops_every_kind_of_record() {
    let mock = MockTransport::new();
    let errors = common::Errors::default();
    let client = common::builder(&mock, &errors)
        .before_send(|mut record| {
            if record.message().contains("drop me") {
                return None;
            }
            let edited = format!("edited: {}", record.message());
            record.set_message(edited).tags_mut().push("seen".into());
            Some(record)
        })
        .build()
        .unwrap();
    let flow = client.flow("job").unwrap();
    let err = "x".parse::<u8>().unwrap_err();
    client
        .info("plain", (), None)
        .info("drop me", json!({"k": 1}), None)
        .warn("with data", json!({"k": 1}), LogOptions::tags(["t"]))
        .info(
            "with a request id",
            (),
            LogOptions::new().request_id("req-1"),
        )
        .error("an error", &err, None)
        .log(LogEntry::new(Level::Debug, "an entry"));
    flow.info("step", (), None)
        .info("drop me: consumes no step", (), None)
        .info("next step", (), None);
    client.flush().unwrap();

    let records = mock.records();
    let messages: Vec<&str> = records.iter().map(|r| r.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "edited: plain",
            "edited: with data",
            "edited: with a request id",
            "edited: an error",
            "edited: an entry",
            "edited: step",
            "edited: next step",
        ]
    );
    assert!(records.iter().all(|r| r.tags.contains(&"seen".to_owned())));
    assert_eq!(records[1].tags, ["t", "seen"]);
    assert_eq!(records[1].data.as_ref().unwrap()["k"], json!(1));
    assert_eq!(records[2].request_id.as_deref(), Some("req-1"));
    assert_eq!(records[3].error_name.as_deref(), Some("ParseIntError"));
    // The worker still adds the client's fields and the backtrace.
    assert_eq!(records[3].source.as_deref(), Some("test-app"));
    assert!(records[3]
        .error_stack
        .as_deref()
        .unwrap()
        .contains("\n\nBacktrace:\n"));
    let steps: Vec<_> = records[5..].iter().map(|r| r.step_index).collect();
    assert_eq!(steps, [Some(0), Some(1)]);
    // Dropping is not an error.
    assert!(errors.all().is_empty(), "{:?}", errors.messages());
    assert_eq!(client.stats().invalid, 0);
}

#[test]
fn before_send_sees_the_caller_s_record() {
    let mock = MockTransport::new();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    let client = Client::builder()
        .source("s")
        .api_key("tb_key")
        .user_id("u-1")
        .before_send(move |record| {
            sink.lock().unwrap().push(record.clone());
            Some(record)
        })
        .transport(mock.clone())
        .build()
        .unwrap();
    client
        .info("hello", json!({"a": 1}), LogOptions::tags(["x"]))
        .flush()
        .unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    let record = &seen[0];
    assert_eq!(record.level(), Level::Info);
    assert_eq!(record.message(), "hello");
    assert_eq!(record.user_id(), Some("u-1"));
    assert_eq!(record.data().unwrap().to_map()["a"], json!(1));
    assert_eq!(record.tags(), ["x"]);
    assert!(record.timestamp() > 0);
    assert_eq!(
        record.to_log_record().source,
        None,
        "the batch adds the source"
    );
    assert_eq!(mock.last().unwrap().source.as_deref(), Some("s"));
}

#[test]
fn a_before_send_that_panics_drops_the_record_and_reports_it() {
    let mock = MockTransport::new();
    let errors = common::Errors::default();
    let client = common::builder(&mock, &errors)
        .before_send(|record| {
            if record.message() == "boom" {
                panic!("hook bug");
            }
            Some(record)
        })
        .build()
        .unwrap();
    client
        .info("boom", (), None)
        .info("fine", (), None)
        .flush()
        .unwrap();
    assert_eq!(mock.count(), 1);
    assert_eq!(mock.last().unwrap().message, "fine");
    assert!(matches!(errors.all()[..], [Error::InvalidData(_)]));
    let err = client
        .try_log(LogEntry::new(Level::Info, "boom"))
        .unwrap_err();
    assert!(err.to_string().contains("before_send"), "{err}");
}

#[derive(Serialize)]
struct Login<'a> {
    user: &'a str,
    password: &'a str,
    session: Session,
}

#[derive(Serialize)]
struct Session {
    #[serde(rename = "accessToken")]
    access_token: String,
    scopes: Vec<&'static str>,
}

#[test]
fn sensitive_data_keys_are_redacted_by_default_at_any_depth() {
    let mock = MockTransport::new();
    let (client, errors) = common::client(&mock);
    assert!(client
        .config()
        .hooks
        .redacted_keys()
        .contains(&"password".to_owned()));
    let login = Login {
        user: "ada",
        password: "hunter2",
        session: Session {
            access_token: "eyJ...".into(),
            scopes: vec!["read"],
        },
    };
    let mut entry = LogEntry::new(Level::Info, "entry");
    entry.data = json!({"Authorization": "Bearer x", "path": "/"})
        .as_object()
        .cloned();
    client
        .info("struct", &login, None)
        .warn(
            "json",
            json!({"headers": {"X-Api-Key": "k", "accept": "*/*"}, "items": [{"client_secret": 1}]}),
            None,
        )
        .error("error data", json!({"db_password": "p", "code": 7}), None)
        .info("full", json!({"token": "t"}), LogOptions::new().request_id("r"))
        .log(entry);
    client.flush().unwrap();
    assert!(errors.all().is_empty(), "{:?}", errors.messages());

    let data: Vec<_> = mock
        .records()
        .into_iter()
        .map(|r| r.data.unwrap())
        .collect();
    assert_eq!(
        serde_json::Value::Object(data[0].clone()),
        json!({"user": "ada", "password": REDACTED,
               "session": {"accessToken": REDACTED, "scopes": ["read"]}})
    );
    assert_eq!(
        serde_json::Value::Object(data[1].clone()),
        json!({"headers": {"X-Api-Key": REDACTED, "accept": "*/*"},
               "items": [{"client_secret": REDACTED}]})
    );
    assert_eq!(
        serde_json::Value::Object(data[2].clone()),
        json!({"db_password": REDACTED, "code": 7})
    );
    assert_eq!(data[3]["token"], json!(REDACTED));
    assert_eq!(data[4]["Authorization"], json!(REDACTED));
    assert_eq!(data[4]["path"], json!("/"));
    // Nothing of the secrets reached the wire.
    let wire = format!("{:?}", mock.records());
    for secret in ["hunter2", "eyJ", "Bearer x", "\"p\""] {
        assert!(!wire.contains(secret), "{secret} leaked: {wire}");
    }
}

#[test]
fn what_before_send_adds_is_redacted_too() {
    let mock = MockTransport::new();
    let client = Client::builder()
        .source("s")
        .api_key("k")
        .before_send(|mut record| {
            let mut data = record.data().map(|d| d.to_map()).unwrap_or_default();
            data.insert("secret".into(), json!("s3"));
            record.set_data(Some(timber_core::Data::from_map(&data)));
            Some(record)
        })
        .transport(mock.clone())
        .build()
        .unwrap();
    client.info("m", (), None).flush().unwrap();
    assert_eq!(
        mock.last().unwrap().data.unwrap()["secret"],
        json!(REDACTED)
    );
}

#[test]
fn the_list_of_redacted_keys_can_be_changed_or_emptied() {
    let mock = MockTransport::new();
    let client = Client::builder()
        .source("s")
        .api_key("k")
        .redact_keys(["email"])
        .redact_key("phone")
        .transport(mock.clone())
        .build()
        .unwrap();
    assert_eq!(client.config().hooks.redacted_keys(), ["email", "phone"]);
    client
        .info(
            "m",
            json!({"email": "a@b.c", "phoneNumber": "1", "password": "kept"}),
            None,
        )
        .flush()
        .unwrap();
    assert_eq!(
        serde_json::Value::Object(mock.last().unwrap().data.unwrap()),
        json!({"email": REDACTED, "phoneNumber": REDACTED, "password": "kept"})
    );

    let mock = MockTransport::new();
    let client = Client::builder()
        .source("s")
        .api_key("k")
        .redact_keys(Vec::<String>::new())
        .transport(mock.clone())
        .build()
        .unwrap();
    assert!(client.config().hooks.redacted_keys().is_empty());
    client
        .info("m", json!({"password": "visible"}), None)
        .flush()
        .unwrap();
    assert_eq!(
        mock.last().unwrap().data.unwrap()["password"],
        json!("visible")
    );
    assert!(DEFAULT_REDACTED_KEYS.contains(&"authorization"));
}

#[test]
fn levels_are_sampled_and_a_sampled_out_record_consumes_no_step() {
    let mock = MockTransport::new();
    let errors = common::Errors::default();
    let client = common::builder(&mock, &errors)
        .sample_rate(Level::Debug, 0.0)
        .sample_rate(Level::Info, 0.5)
        .build()
        .unwrap();
    let flow = client.flow("job").unwrap();
    for _ in 0..1000 {
        client.info("half", (), None);
    }
    flow.debug("sampled out", (), None)
        .warn("first", (), None)
        .debug("sampled out", (), None)
        .error("second", json!({"k": 1}), None);
    client.log(LogEntry::new(Level::Debug, "sampled out"));
    client.error("error values too", &std::io::Error::other("x"), None);
    client.flush().unwrap();

    assert!(mock.by_level(Level::Debug).is_empty());
    let infos = mock.by_level(Level::Info).len();
    // 1000 draws at 0.5: outside 350..650 has a probability below 1e-20.
    assert!((350..650).contains(&infos), "{infos}");
    let steps: Vec<_> = mock
        .by_flow(flow.id())
        .iter()
        .map(|r| (r.message.clone(), r.step_index))
        .collect();
    assert_eq!(
        steps,
        [
            ("first".to_owned(), Some(0)),
            ("second".to_owned(), Some(1))
        ]
    );
    assert_eq!(mock.by_level(Level::Error).len(), 2);
    assert!(errors.all().is_empty());
    assert_eq!(client.config().hooks.sample_rate(Level::Info), 0.5);
    assert_eq!(client.config().hooks.sample_rate(Level::Warn), 1.0);
}

#[test]
fn a_sample_rate_outside_zero_to_one_is_a_config_error() {
    for bad in [-0.1, 1.01, f64::NAN, f64::INFINITY] {
        let err = Client::builder()
            .source("s")
            .api_key("k")
            .sample_rate(Level::Warn, bad)
            .transport(MockTransport::new())
            .build()
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid configuration: sample_rate:"),
            "{err}"
        );
    }
}
