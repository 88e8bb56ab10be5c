//! The OTLP transport against a real OTLP/HTTP receiver on 127.0.0.1 (the
//! ingest server in OTLP mode, decoding with the official protobuf types):
//! every mapped field, both encodings, HTTP and HTTPS, the headers.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;

use common::*;
use futures::executor::block_on;
use serde_json::json;
use timber_core::transport::Transport;
use timber_core::{Environment, Level, LogEntry, LogRecord};
use timber_transport_otlp::proto::common::v1::any_value::Value as Any;
use timber_transport_otlp::proto::common::v1::{AnyValue, KeyValue};
use timber_transport_otlp::{flow_trace_id, Encoding, OtlpTransport};

/// A record with every field set.
fn full_record() -> LogRecord {
    let data = json!({
        "route": "/api/cart",
        "status": 502,
        "ratio": 0.25,
        "ok": false,
        "nothing": null,
        "list": [1, "two", 3.5],
        "nested": {"a": {"b": [true]}},
        "message": "connection refused",
        "session.id": "a data key that looks like a field",
        "timber.tags": "another one",
    });
    LogRecord {
        source: Some("checkout".into()),
        environment: Some(Environment::Production),
        version: Some("2.3.1".into()),
        user_id: Some("user-7".into()),
        session_id: Some("sess-42".into()),
        request_id: Some("req-9".into()),
        data: data.as_object().cloned(),
        error_name: Some("io::Error".into()),
        error_stack: Some("io::Error: connection refused\n  at main".into()),
        tags: vec!["payments".into(), "retry".into()],
        flow_id: Some("checkout-a1b2c3d4".into()),
        step_index: Some(3),
        dataset: Some("orders".into()),
        timestamp: Some(1_700_000_123_456),
        ip_address: Some("203.0.113.9".into()),
        country: Some("NZ".into()),
        ..LogRecord::new(Level::Error, "payment failed")
    }
}

fn attributes(list: &[KeyValue]) -> BTreeMap<String, Option<Any>> {
    list.iter()
        .map(|kv| {
            let value = kv.value.as_ref().and_then(|v| v.value.clone());
            (kv.key.clone(), value)
        })
        .collect()
}

fn s(text: &str) -> Option<Any> {
    Some(Any::StringValue(text.to_owned()))
}

fn any(value: Option<Any>) -> AnyValue {
    AnyValue { value }
}

#[test]
fn every_field_arrives_as_the_mapping_says_over_https_and_http_in_both_encodings() {
    for server in receivers() {
        for encoding in [Encoding::Protobuf, Encoding::Json] {
            let before = server.otlp_requests().len();
            let transport = builder_for(&server).encoding(encoding).build().unwrap();
            let batch = common::batch(&[full_record()]);
            block_on(transport.send_batch(&endpoint(&server), &batch)).unwrap();

            let requests = server.otlp_requests();
            assert_eq!(requests.len(), before + 1, "{encoding:?}");
            let request = &requests[before];
            assert_eq!(request.resource_logs.len(), 1);
            let resource = request.resource_logs[0].resource.as_ref().unwrap();
            assert_eq!(
                attributes(&resource.attributes),
                BTreeMap::from([
                    ("service.name".to_owned(), s("checkout")),
                    ("deployment.environment.name".to_owned(), s("production")),
                    ("service.version".to_owned(), s("2.3.1")),
                ])
            );
            let scope_logs = &request.resource_logs[0].scope_logs;
            assert_eq!(scope_logs.len(), 1);
            let scope = scope_logs[0].scope.as_ref().unwrap();
            assert_eq!(scope.name, "timber-rs");
            assert_eq!(scope.version, env!("CARGO_PKG_VERSION"));
            let record = &scope_logs[0].log_records[0];
            assert_eq!(record.time_unix_nano, 1_700_000_123_456_000_000);
            assert_eq!(record.observed_time_unix_nano, 1_700_000_123_456_000_000);
            assert_eq!(record.severity_number, 17);
            assert_eq!(record.severity_text, "ERROR");
            assert_eq!(record.body, Some(any(s("payment failed"))));
            assert_eq!(record.trace_id, flow_trace_id("checkout-a1b2c3d4").to_vec());
            assert_eq!(record.trace_id.len(), 16);
            assert!(record.span_id.is_empty());
            let expected = BTreeMap::from([
                ("route".to_owned(), s("/api/cart")),
                ("status".to_owned(), Some(Any::IntValue(502))),
                ("ratio".to_owned(), Some(Any::DoubleValue(0.25))),
                ("ok".to_owned(), Some(Any::BoolValue(false))),
                ("nothing".to_owned(), None),
                (
                    "list".to_owned(),
                    Some(Any::ArrayValue(
                        timber_transport_otlp::proto::common::v1::ArrayValue {
                            values: vec![
                                any(Some(Any::IntValue(1))),
                                any(s("two")),
                                any(Some(Any::DoubleValue(3.5))),
                            ],
                        },
                    )),
                ),
                (
                    "nested".to_owned(),
                    timber_transport_otlp::any_value(&json!({"a": {"b": [true]}})),
                ),
                (
                    "timber.data.session.id".to_owned(),
                    s("a data key that looks like a field"),
                ),
                ("timber.data.timber.tags".to_owned(), s("another one")),
                ("exception.type".to_owned(), s("io::Error")),
                (
                    "exception.stacktrace".to_owned(),
                    s("io::Error: connection refused\n  at main"),
                ),
                ("exception.message".to_owned(), s("connection refused")),
                ("enduser.id".to_owned(), s("user-7")),
                ("session.id".to_owned(), s("sess-42")),
                ("timber.request_id".to_owned(), s("req-9")),
                ("timber.dataset".to_owned(), s("orders")),
                (
                    "timber.tags".to_owned(),
                    Some(Any::ArrayValue(
                        timber_transport_otlp::proto::common::v1::ArrayValue {
                            values: vec![any(s("payments")), any(s("retry"))],
                        },
                    )),
                ),
                ("timber.flow.id".to_owned(), s("checkout-a1b2c3d4")),
                ("timber.flow.step".to_owned(), Some(Any::IntValue(3))),
                ("client.address".to_owned(), s("203.0.113.9")),
                ("geo.country.iso_code".to_owned(), s("NZ")),
            ]);
            assert_eq!(attributes(&record.attributes), expected, "{encoding:?}");
            assert_eq!(record.attributes.len(), expected.len(), "no key twice");
            // The nested object is a key-value list.
            match &attributes(&record.attributes)["nested"] {
                Some(Any::KvlistValue(list)) => assert_eq!(list.values[0].key, "a"),
                other => panic!("nested: {other:?}"),
            }
            // And it all maps back.
            assert_eq!(
                timber_transport_otlp::records_from(request),
                vec![full_record()]
            );

            let info = server.requests().pop().unwrap();
            assert_eq!(info.path, "/v1/logs");
            assert_eq!(info.content_type.as_deref(), Some(encoding.content_type()));
            assert_eq!(
                info.idempotency_key.as_deref(),
                Some(batch.idempotency_key())
            );
            assert_eq!(
                info.header("user-agent"),
                Some(timber_transport_otlp::USER_AGENT)
            );
            assert!(!info.authorized, "no key is sent by default");
            let version = if server.ca_pem().is_some() {
                "HTTP/2.0"
            } else {
                "HTTP/1.1"
            };
            assert_eq!(info.version, version);
        }
    }
}

#[test]
fn levels_become_severities() {
    let server = http_receiver();
    let records: Vec<LogRecord> = Level::ALL
        .iter()
        .map(|l| LogRecord::new(*l, l.as_str()))
        .collect();
    block_on(transport_for(&server).send_batch(&endpoint(&server), &common::batch(&records)))
        .unwrap();
    let got: Vec<(i32, String)> = otlp_records(&server)
        .iter()
        .map(|r| (r.severity_number, r.severity_text.clone()))
        .collect();
    assert_eq!(
        got,
        [(5, "DEBUG"), (9, "INFO"), (13, "WARN"), (17, "ERROR")].map(|(n, t)| (n, t.to_owned()))
    );
    // A record's time is when it was made; no flow, no trace.
    for record in otlp_records(&server) {
        assert!(record.time_unix_nano > 1_600_000_000_000_000_000);
        assert_eq!(record.observed_time_unix_nano, record.time_unix_nano);
        assert!(record.trace_id.is_empty());
        assert!(record.attributes.is_empty());
    }
}

#[test]
fn a_batch_is_one_resource_with_its_records_in_order() {
    let server = http_receiver();
    let records: Vec<LogRecord> = (0..5)
        .map(|i| LogRecord {
            source: Some("worker".into()),
            environment: Some(Environment::Staging),
            version: Some("2.1".into()),
            timestamp: Some(1_700_000_000_000 + i),
            ..LogRecord::new(Level::Info, format!("m{i}"))
        })
        .collect();
    block_on(transport_for(&server).send_batch(&endpoint(&server), &common::batch(&records)))
        .unwrap();
    let request = &server.otlp_requests()[0];
    assert_eq!(request.resource_logs.len(), 1);
    let resource = &request.resource_logs[0];
    assert_eq!(resource.resource.as_ref().unwrap().attributes.len(), 3);
    let bodies: Vec<&str> = resource.scope_logs[0]
        .log_records
        .iter()
        .map(body)
        .collect();
    assert_eq!(bodies, ["m0", "m1", "m2", "m3", "m4"]);
    assert_eq!(timber_transport_otlp::records_from(request), records);
}

#[test]
fn a_client_ships_flows_as_traces_and_errors_as_exceptions() {
    let server = https_receiver();
    let (client, errors) = client_for(&server, transport_for(&server), fast_retry(2));
    client.set_user_id(Some("u-1"));
    let checkout = client.flow("checkout").unwrap();
    let refund = client.flow("refund").unwrap();
    checkout.info("cart loaded", json!({"items": 3}), None);
    refund.info("refund asked", (), None);
    checkout.warn("stock low", (), None);
    let err = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "db down");
    checkout.error("payment failed", &err, None);
    client.disconnect().unwrap();
    assert!(errors.lock().unwrap().is_empty(), "{:?}", errors.lock());

    let records = otlp_records(&server);
    assert_eq!(records.len(), 4);
    let attrs: Vec<_> = records.iter().map(|r| attributes(&r.attributes)).collect();
    let flow_of = |i: usize| match &attrs[i]["timber.flow.id"] {
        Some(Any::StringValue(id)) => id.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(flow_of(0), checkout.id());
    assert_eq!(flow_of(1), refund.id());
    assert_eq!(records[0].trace_id, flow_trace_id(checkout.id()).to_vec());
    assert_eq!(records[0].trace_id, records[2].trace_id);
    assert_eq!(records[0].trace_id, records[3].trace_id);
    assert_ne!(records[0].trace_id, records[1].trace_id);
    let steps: Vec<_> = [0, 2, 3]
        .iter()
        .map(|i| attrs[*i]["timber.flow.step"].clone())
        .collect();
    assert_eq!(steps, [0, 1, 2].map(|s| Some(Any::IntValue(s))));
    assert_eq!(attrs[0]["enduser.id"], s("u-1"));
    assert_eq!(attrs[3]["exception.message"], s("db down"));
    assert!(
        matches!(&attrs[3]["exception.type"], Some(Any::StringValue(t)) if t.contains("Error"))
    );
    assert!(
        matches!(&attrs[3]["exception.stacktrace"], Some(Any::StringValue(t)) if t.contains("db down"))
    );
    assert!(records.iter().all(|r| r.time_unix_nano > 0));
}

#[test]
fn the_api_key_goes_only_in_the_header_named_and_never_in_output() {
    let server = http_receiver();
    let transport = builder_for(&server)
        .api_key_header("x-api-key")
        .build()
        .unwrap();
    block_on(transport.send_batch(&endpoint(&server), &common::batch(&[full_record()]))).unwrap();
    assert!(server.requests()[0].authorized);

    let wrong = timber_core::transport::Endpoint {
        api_key: timber_core::transport::ApiKey::new("tb_test_wrong_SECRETkey"),
        ..endpoint(&server)
    };
    let err = block_on(transport.send_batch(&wrong, &common::batch(&[full_record()]))).unwrap_err();
    assert_eq!(err.kind(), timber_core::transport::FailureKind::Permanent);
    assert!(err.to_string().starts_with("HTTP 401"), "{err}");
    let outputs = [
        err.to_string(),
        format!("{err:?}"),
        format!("{transport:?}"),
        format!("{:?}", endpoint(&server)),
    ];
    for out in outputs {
        assert!(!out.contains("SECRET"), "{out}");
    }
    let bad = OtlpTransport::builder()
        .api_key_header("bad header")
        .build();
    assert!(bad.unwrap_err().to_string().contains("api_key_header"));
    let bad = OtlpTransport::builder()
        .api_key_header("Content-Type")
        .build();
    assert!(bad
        .unwrap_err()
        .to_string()
        .contains("set by the transport"));
    let bad = OtlpTransport::builder().path("v1/logs").build();
    assert!(bad.unwrap_err().to_string().contains("path"));
}

#[test]
fn custom_headers_proxies_and_timeouts_come_from_the_shared_http_settings() {
    let server = http_receiver();
    let transport = OtlpTransport::builder()
        .http(
            http_for(&server)
                .header("X-Scope-OrgID", "tenant-1")
                .header("User-Agent", "my-exporter/1.0")
                .no_proxy(),
        )
        .path("/v1/logs")
        .build()
        .unwrap();
    block_on(transport.send_batch(&endpoint(&server), &common::batch(&[full_record()]))).unwrap();
    let info = &server.requests()[0];
    assert_eq!(info.header("x-scope-orgid"), Some("tenant-1"));
    assert_eq!(info.header("user-agent"), Some("my-exporter/1.0"));
    // One client shared by two transports.
    let shared = OtlpTransport::builder()
        .client(transport.client().clone())
        .encoding(Encoding::Json)
        .build()
        .unwrap();
    block_on(shared.send_batch(&endpoint(&server), &common::batch(&[full_record()]))).unwrap();
    assert_eq!(
        server.requests()[1].header("x-scope-orgid"),
        Some("tenant-1")
    );
    assert_eq!(server.summary().connections, 1, "the pool is shared");
}

#[test]
fn gzip_bodies_are_accepted() {
    let server = http_receiver();
    let transport = OtlpTransport::builder()
        .http(http_for(&server).gzip_min_bytes(0))
        .build()
        .unwrap();
    let batch = common::batch(&vec![full_record(); 20]);
    block_on(transport.send_batch(&endpoint(&server), &batch)).unwrap();
    assert_eq!(server.summary().gzip_bodies, 1);
    assert_eq!(otlp_records(&server).len(), 20);
}

#[test]
fn an_empty_batch_sends_nothing() {
    let server = http_receiver();
    block_on(transport_for(&server).send_batch(&endpoint(&server), &common::batch(&[]))).unwrap();
    assert_eq!(server.summary().requests, 0);
}

/// One HTTP/1.1 request read off a plain socket: the bytes as sent.
fn capture_one(listener: &TcpListener) -> (String, Vec<u8>) {
    let (mut stream, _) = listener.accept().unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut head = String::new();
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap();
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    stream
        .write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}",
        )
        .unwrap();
    (head, body)
}

#[test]
fn otlp_json_follows_the_specification_on_the_wire() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let transport = OtlpTransport::builder()
        .http(timber_transport_hyper::HttpClient::builder().allow_http(true))
        .encoding(Encoding::Json)
        .build()
        .unwrap();
    let endpoint = timber_core::transport::Endpoint {
        base_url: url,
        api_key: timber_core::transport::ApiKey::new(KEY),
    };
    let sender = std::thread::spawn(move || {
        block_on(transport.send_batch(&endpoint, &common::batch(&[full_record()])))
    });
    let (head, body) = capture_one(&listener);
    sender.join().unwrap().unwrap();
    assert!(head.starts_with("POST /v1/logs HTTP/1.1\r\n"), "{head}");
    assert!(
        head.contains("content-type: application/json\r\n"),
        "{head}"
    );
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let record = &json["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0];
    // Hex ids, not base64.
    let trace = record["traceId"].as_str().unwrap();
    assert_eq!(trace.len(), 32);
    assert!(trace.bytes().all(|b| b.is_ascii_hexdigit()), "{trace}");
    assert_eq!(
        trace,
        flow_trace_id("checkout-a1b2c3d4")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    // 64-bit integers as decimal strings, enums as numbers, camelCase keys.
    assert_eq!(record["timeUnixNano"], json!("1700000123456000000"));
    assert_eq!(record["observedTimeUnixNano"], json!("1700000123456000000"));
    assert_eq!(record["severityNumber"], json!(17));
    assert_eq!(record["severityText"], json!("ERROR"));
    assert_eq!(record["body"], json!({"stringValue": "payment failed"}));
    let attribute = |key: &str| {
        record["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|kv| kv["key"] == key)
            .map(|kv| kv["value"].clone())
            .unwrap()
    };
    assert_eq!(attribute("status"), json!({"intValue": "502"}));
    assert_eq!(attribute("timber.flow.step"), json!({"intValue": "3"}));
    assert_eq!(attribute("ratio"), json!({"doubleValue": 0.25}));
    assert_eq!(attribute("ok"), json!({"boolValue": false}));
    assert_eq!(attribute("nothing"), json!({}));
    assert_eq!(
        attribute("list"),
        json!({"arrayValue": {"values": [{"intValue": "1"}, {"stringValue": "two"}, {"doubleValue": 3.5}]}})
    );
    assert_eq!(
        attribute("nested"),
        json!({"kvlistValue": {"values": [{"key": "a", "value": {"kvlistValue": {"values": [
            {"key": "b", "value": {"arrayValue": {"values": [{"boolValue": true}]}}}
        ]}}}]}})
    );
    let resource = &json["resourceLogs"][0]["resource"]["attributes"][0];
    assert_eq!(
        *resource,
        json!({"key": "service.name", "value": {"stringValue": "checkout"}})
    );
    let scope = &json["resourceLogs"][0]["scopeLogs"][0]["scope"];
    assert_eq!(scope["name"], json!("timber-rs"));
    assert!(
        !body.windows(11).any(|w| w == b"log_records"),
        "no snake_case key"
    );
}

#[test]
fn a_flow_created_by_the_client_needs_no_request_and_raw_bodies_are_refused() {
    let server = http_receiver();
    let (client, _) = client_for(&server, transport_for(&server), fast_retry(0));
    let flow = block_on(client.flow_async("signup")).unwrap();
    assert!(flow.id().starts_with("signup-"), "{}", flow.id());
    let err = client
        .ingest_raw(
            "a line",
            timber_core::RawFormat::Text,
            timber_core::IngestRawOptions::new(),
        )
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("OTLP"), "{text}");
    assert!(text.contains("text"), "{text}");
    client.log(LogEntry::new(Level::Info, "still fine"));
    client.disconnect().unwrap();
    assert_eq!(server.summary().requests, 1, "only the batch");
}
