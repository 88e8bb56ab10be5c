//! The facade's defaults on their own: raw bodies checked locally with the
//! format crate (moved here from the hyper transport, which no longer
//! parses anything), the default transport's CA variable, and explicit
//! settings winning over the defaults.

mod common;

use std::sync::Arc;

use common::*;
use timber_sdk::{ConfigError, Error, HyperTransport, RawFormat};

fn transport_for(server: &timber_ingest_server::IngestServer) -> HyperTransport {
    HyperTransport::builder()
        .add_root_certificate_pem(server.ca_pem().unwrap())
        .no_proxy()
        .build()
        .unwrap()
}

#[test]
fn malformed_raw_bodies_are_refused_before_sending_unless_opted_out() {
    let server = https_server();
    let client = timber_sdk::builder()
        .source("sdk-tests")
        .api_key(KEY)
        .base_url(server.url())
        .transport(transport_for(&server))
        .build()
        .unwrap();
    let err = client
        .ingest_raw("level,message\n\"unclosed,quote", RawFormat::Csv, None)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidRawBody {
                format: RawFormat::Csv,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().starts_with("invalid csv body: line "),
        "{err}"
    );
    let err = client
        .ingest_raw("{\"level\":", RawFormat::Jsonl, None)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid jsonl body: line 1, column 9: EOF while parsing a value"
    );
    assert!(
        server.raw_ingestions().is_empty(),
        "nothing malformed left the process"
    );
    client
        .ingest_raw(
            "{\"level\":\"info\",\"message\":\"ok\"}",
            RawFormat::Jsonl,
            None,
        )
        .unwrap();
    assert_eq!(server.raw_ingestions().len(), 1);

    let unchecked = timber_sdk::builder()
        .source("sdk-tests")
        .api_key(KEY)
        .base_url(server.url())
        .check_raw_bodies(false)
        .transport(transport_for(&server))
        .build()
        .unwrap();
    unchecked
        .ingest_raw("{\"level\":", RawFormat::Jsonl, None)
        .unwrap();
    assert_eq!(server.raw_ingestions().len(), 2);
}

#[test]
fn an_explicit_raw_validator_wins_over_the_default_before_or_after() {
    let accept_all: timber_sdk::config::RawValidator = Arc::new(|_, _| Ok(()));
    let before = timber_sdk::builder().raw_validator(accept_all.clone());
    let after = timber_sdk::Client::builder().raw_validator(accept_all);
    for builder in [before, after] {
        let mock = timber_transport_mock::MockTransport::new();
        let client = builder
            .source("s")
            .api_key(KEY)
            .transport(mock.clone())
            .build()
            .unwrap();
        client
            .ingest_raw("not, really\"csv", RawFormat::Csv, None)
            .unwrap();
        assert_eq!(mock.raw_ingestions().len(), 1);
    }
}

#[test]
fn the_default_transport_trusts_the_ca_file_variable() {
    let server = https_server();
    let ca = ca_file(&server, "defaults");
    let vars = [
        ("TIMBERLOGS_API_KEY", KEY.to_owned()),
        ("TIMBERLOGS_ENDPOINT", server.url()),
        ("TIMBERLOGS_CA_CERT", ca.display().to_string()),
    ];
    run_child("child_logs_one_record", &vars);
    assert_eq!(server.records().len(), 1);

    // Without it, the self-signed server is refused: certificates are
    // always verified.
    run_child("child_cannot_verify_the_server", &vars[..2]);
    assert_eq!(server.records().len(), 1);
    let _ = std::fs::remove_file(ca);
}

#[test]
#[ignore = "run by the_default_transport_trusts_the_ca_file_variable"]
fn child_logs_one_record() {
    let client = timber_sdk::builder().source("ca-test").build().unwrap();
    client.info("trusted through TIMBERLOGS_CA_CERT", (), None);
    client.flush().unwrap();
}

#[test]
#[ignore = "run by the_default_transport_trusts_the_ca_file_variable"]
fn child_cannot_verify_the_server() {
    let errors = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = errors.clone();
    let client = timber_sdk::builder()
        .source("ca-test")
        .on_error(move |e| sink.lock().unwrap().push(e.to_string()))
        .build()
        .unwrap();
    client.info("not trusted", (), None);
    let err = client.flush().unwrap_err();
    assert!(err.to_string().contains("certificate"), "{err}");
}

#[test]
fn an_unreadable_ca_file_is_a_config_error_naming_the_variable() {
    run_child(
        "child_with_a_missing_ca_file",
        &[
            ("TIMBERLOGS_API_KEY", KEY.to_owned()),
            ("TIMBERLOGS_CA_CERT", "/nonexistent/ca.pem".to_owned()),
        ],
    );
}

#[test]
#[ignore = "run by an_unreadable_ca_file_is_a_config_error_naming_the_variable"]
fn child_with_a_missing_ca_file() {
    let err = timber_sdk::builder().source("s").build().unwrap_err();
    let Error::Config(ConfigError { field, reason }) = err else {
        panic!("{err}");
    };
    assert_eq!(field, "TIMBERLOGS_CA_CERT");
    assert!(reason.contains("/nonexistent/ca.pem"), "{reason}");
}

#[test]
fn without_a_key_init_says_which_variable_is_missing() {
    run_child("child_without_a_key", &[]);
}

#[test]
#[ignore = "run by without_a_key_init_says_which_variable_is_missing"]
fn child_without_a_key() {
    let err = timber_sdk::init(timber_sdk::builder().source("s")).unwrap_err();
    assert!(
        err.to_string().starts_with(
            "invalid configuration: TIMBERLOGS_API_KEY: is not set: expected the API key"
        ),
        "{err}"
    );
}

#[test]
fn dropping_the_client_inside_a_tokio_task_never_blocks_the_runtime() {
    let server = https_server();
    // The service hangs for an hour; the shutdown timeout is an hour too:
    // a drop that waited would hang the test.
    server.misbehave(
        timber_ingest_server::Misbehave::delay(std::time::Duration::from_secs(3_600)).times(10),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = timber_sdk::builder()
            .source("sdk-tests")
            .api_key(KEY)
            .base_url(server.url())
            .shutdown_timeout(std::time::Duration::from_secs(3_600))
            .transport(transport_for(&server))
            .build()
            .unwrap();
        client.info("stuck behind a hung service", (), None);
        tokio::spawn(async move { drop(client) }).await.unwrap();
    });
}
