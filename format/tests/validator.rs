//! `timber_format::validator()` makes `Client::ingest_raw` refuse malformed
//! bodies locally, with their position, and send good ones.

use timber_core::{Client, Error, Level, RawFormat};
use timber_format::{serialize, validator, Record};
use timber_transport_mock::MockTransport;

fn client(mock: &MockTransport) -> Client {
    Client::builder()
        .source("relay")
        .api_key("tb_test_validator")
        .transport(mock.clone())
        .raw_validator(validator())
        .build()
        .unwrap()
}

#[test]
fn refuses_malformed_bodies_and_sends_good_ones() {
    let mock = MockTransport::new();
    let client = client(&mock);

    let err = client
        .ingest_raw(
            "level,message,stepIndex\ninfo,ok,1\nerror,bad,many\n",
            RawFormat::Csv,
            None,
        )
        .unwrap_err();
    match &err {
        Error::InvalidRawBody { format, reason } => {
            assert_eq!(*format, RawFormat::Csv);
            assert!(reason.contains("line 3, column 3"), "{reason}");
        }
        other => panic!("expected InvalidRawBody, got {other:?}"),
    }

    let err = client
        .ingest_raw(
            "{\"level\":\"info\",\"message\":\"a\"}\n{\"level\":\"info\",\n",
            RawFormat::Jsonl,
            None,
        )
        .unwrap_err();
    match &err {
        Error::InvalidRawBody { format, reason } => {
            assert_eq!(*format, RawFormat::Jsonl);
            assert!(reason.contains("line 2"), "{reason}");
        }
        other => panic!("expected InvalidRawBody, got {other:?}"),
    }
    assert!(
        mock.raw_ingestions().is_empty(),
        "nothing malformed was sent"
    );

    client
        .ingest_raw(
            "level,message\nerror,Connection refused\n",
            RawFormat::Csv,
            None,
        )
        .unwrap();
    // A body built from records with `serialize` is valid by construction.
    let records = [Record::new(Level::Warn, "disk at 91%")];
    for format in RawFormat::ALL {
        client
            .ingest_raw(&serialize(&records, format), format, None)
            .unwrap();
    }
    let sent = mock.raw_ingestions();
    assert_eq!(sent.len(), 1 + RawFormat::ALL.len());
    assert_eq!(sent[0].format, RawFormat::Csv);
}

#[test]
fn without_the_validator_the_body_goes_out_unchecked() {
    let mock = MockTransport::new();
    let client = Client::builder()
        .source("relay")
        .api_key("tb_test_validator")
        .transport(mock.clone())
        .build()
        .unwrap();
    client
        .ingest_raw("{not json", RawFormat::Json, None)
        .unwrap();
    assert_eq!(mock.raw_ingestions().len(), 1);
}
