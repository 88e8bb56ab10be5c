//! The hyper transport against the real ingest server on 127.0.0.1.

mod common;

use std::time::{Duration, Instant};

use common::*;
use futures::executor::block_on;
use serde_json::json;
use timber_core::transport::{RawRequest, Transport};
use timber_core::{Environment, Error, IngestRawOptions, Level, LogOptions, LogRecord, RawFormat};
use timber_ingest_server::{IngestServer, Misbehave, ServerConfig, TlsIdentity};
use timber_transport_hyper::HyperTransport;

#[test]
fn batches_arrive_over_https_and_http() {
    for server in servers() {
        let transport = transport_for(&server);
        let batch = common::batch(&records(25));
        block_on(transport.send_batch(&endpoint(&server), &batch)).unwrap();
        assert_eq!(server.records(), batch.log_records());
        let request = &server.requests()[0];
        assert_eq!(request.path, "/v1/logs");
        assert_eq!(request.content_type.as_deref(), Some("application/json"));
        assert_eq!(
            request.idempotency_key.as_deref(),
            Some(batch.idempotency_key())
        );
        assert!(request.authorized);
        // HTTP/2 is negotiated by ALPN over TLS; plain HTTP stays on 1.1.
        let expected = if server.ca_pem().is_some() {
            "HTTP/2.0"
        } else {
            "HTTP/1.1"
        };
        assert_eq!(request.version, expected);
    }
}

#[test]
fn http1_is_used_over_tls_when_http2_is_not_offered() {
    let server = https_server();
    let transport = builder_for(&server).http2(false).build().unwrap();
    block_on(transport.send_batch(&endpoint(&server), &common::batch(&records(1)))).unwrap();
    assert_eq!(server.requests()[0].version, "HTTP/1.1");
}

#[test]
fn connections_are_reused() {
    let server = https_server();
    let transport = builder_for(&server).http2(false).build().unwrap();
    for _ in 0..20 {
        block_on(transport.send_batch(&endpoint(&server), &common::batch(&records(2)))).unwrap();
    }
    assert_eq!(server.summary().records, 40);
    assert_eq!(server.summary().connections, 1);
}

#[test]
fn a_repeated_idempotency_key_is_stored_once() {
    let server = https_server();
    let transport = transport_for(&server);
    let batch = common::batch(&records(3));
    block_on(transport.send_batch(&endpoint(&server), &batch)).unwrap();
    block_on(transport.send_batch(&endpoint(&server), &batch)).unwrap();
    assert_eq!(server.records().len(), 3);
    assert_eq!(server.summary().duplicate_batches, 1);
}

#[test]
fn plain_http_is_refused_unless_allowed() {
    let server = http_server();
    let transport = HyperTransport::new().unwrap();
    let err = block_on(transport.send_batch(&endpoint(&server), &common::batch(&records(1))))
        .unwrap_err();
    assert!(!err.is_retryable());
    assert!(err.message().contains("refusing plain http://"), "{err}");
    assert!(err.message().contains("in clear"), "{err}");
    assert_eq!(server.summary().requests, 0);
}

#[test]
fn the_client_delivers_every_level_with_data_and_tags() {
    for server in servers() {
        let (client, errors) = client_for(&server, transport_for(&server), fast_retry(3));
        client
            .set_user_id(Some("user-1"))
            .set_session_id(Some("session-1"))
            .debug("d", json!({"k": 1}), LogOptions::tags(["a"]))
            .info("i", json!({"k": 2}), None)
            .warn("w", (), None);
        let err = "x".parse::<i32>().unwrap_err();
        client.error("e", &err, None);
        client.flush().unwrap();
        let got = server.records();
        assert_eq!(got.len(), 4);
        let levels: Vec<Level> = got.iter().map(|r| r.level).collect();
        assert_eq!(levels, Level::ALL);
        assert_eq!(got[0].tags, ["a"]);
        assert_eq!(got[0].data.as_ref().unwrap()["k"], 1);
        assert_eq!(got[3].error_name.as_deref(), Some("ParseIntError"));
        assert!(got.iter().all(|r| r.user_id.as_deref() == Some("user-1")));
        assert!(errors.lock().unwrap().is_empty());
    }
}

#[test]
fn flows_get_server_ids() {
    for server in servers() {
        let transport = transport_for(&server);
        let id = block_on(transport.create_flow(&endpoint(&server), "checkout")).unwrap();
        let suffix = id.strip_prefix("checkout-").unwrap();
        assert_eq!(suffix.len(), 8);
        assert!(suffix
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        assert_eq!(server.flows()[0].id, id);

        let (client, _) = client_for(&server, transport, fast_retry(1));
        let flow = block_on(client.flow_async("signup")).unwrap();
        flow.info("one", (), None).info("two", (), None);
        client.flush().unwrap();
        let records = server.records();
        assert_eq!(records.len(), 2);
        assert!(records
            .iter()
            .all(|r| r.flow_id.as_deref() == Some(flow.id())));
        assert_eq!(records[1].step_index, Some(1));
    }
}

#[test]
fn a_refused_flow_name_is_a_permanent_error() {
    let server = https_server();
    let transport = transport_for(&server);
    let err = block_on(transport.create_flow(&endpoint(&server), &"n".repeat(60))).unwrap_err();
    assert!(err.message().starts_with("HTTP 400:"), "{err}");
    assert!(!err.is_retryable());
    assert!(
        err.message().contains("name must be 1 to 41 characters"),
        "{err}"
    );
}

#[test]
fn raw_ingestion_sends_headers_query_and_body_for_every_format() {
    let bodies = [
        (RawFormat::Json, r#"[{"level":"info","message":"hi"}]"#),
        (
            RawFormat::Jsonl,
            "{\"level\":\"info\",\"message\":\"a\"}\n{\"level\":\"warn\",\"message\":\"b\"}",
        ),
        (
            RawFormat::Syslog,
            "<165>1 2024-01-15T10:30:00.000Z myhost api 1234 - - Connection refused",
        ),
        (
            RawFormat::Text,
            "2024-01-15 10:30:00 ERROR Connection refused",
        ),
        (
            RawFormat::Csv,
            "level,message,source\nerror,Connection refused,api",
        ),
        (
            RawFormat::Obl,
            r#"{"format":"open-board-log-0.1","sessions":[]}"#,
        ),
    ];
    let options = IngestRawOptions::new()
        .source("my relay")
        .environment(Environment::Staging)
        .level(Level::Warn)
        .dataset("ds/1&2");
    for server in servers() {
        let transport = transport_for(&server);
        for (format, body) in bodies {
            let raw = RawRequest {
                body,
                format,
                options: &options,
                idempotency_key: &format!("key-{format}"),
            };
            block_on(transport.ingest_raw(&endpoint(&server), raw)).unwrap();
        }
        let got = server.raw_ingestions();
        assert_eq!(got.len(), 6);
        for (received, (format, body)) in got.iter().zip(bodies) {
            assert_eq!(received.format, format);
            assert_eq!(received.content_type, format.content_type());
            assert_eq!(received.body, body);
            assert_eq!(received.options, options);
            assert_eq!(
                received.query,
                format!(
                    "format={format}&source=my%20relay&environment=staging&level=warn&dataset=ds%2F1%262"
                )
            );
        }
        assert_eq!(server.summary().raw_by_format.len(), 6);
    }
}

#[test]
fn the_client_retries_a_500_then_succeeds() {
    let server = https_server();
    server.misbehave(Misbehave::status(500).times(2));
    let (client, errors) = client_for(&server, transport_for(&server), fast_retry(3));
    client.info("survives", (), None);
    client.flush().unwrap();
    assert_eq!(server.records().len(), 1);
    let requests = server.requests();
    let statuses: Vec<_> = requests.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(500), Some(500), Some(200)]);
    // Every attempt carries the same idempotency key.
    assert!(requests
        .iter()
        .all(|r| r.idempotency_key == requests[0].idempotency_key));
    assert!(errors.lock().unwrap().is_empty());
    assert_eq!(client.stats().sent, 1);
}

#[test]
fn retry_after_is_parsed_and_honoured() {
    let server = https_server();
    let transport = transport_for(&server);
    server.misbehave(Misbehave::status(429).retry_after("1"));
    let err = block_on(transport.send_batch(&endpoint(&server), &common::batch(&records(1))))
        .unwrap_err();
    assert!(err.is_retryable());
    assert!(err.message().starts_with("HTTP 429:"), "{err}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));

    let date = "Wed, 21 Oct 2015 07:28:00 GMT";
    server.misbehave(Misbehave::status(503).retry_after(date));
    let err = block_on(transport.send_batch(&endpoint(&server), &common::batch(&records(1))))
        .unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::ZERO));

    // A server asking for centuries, with no cap of the client's own: a
    // retry waits a minute at most, so a flush cannot be held forever.
    server.misbehave(Misbehave::status(503).retry_after("99999999999999"));
    let err = block_on(transport.send_batch(&endpoint(&server), &common::batch(&records(1))))
        .unwrap_err();
    let unbounded = timber_core::RetryPolicy {
        max_delay: Duration::MAX,
        ..Default::default()
    };
    assert_eq!(
        unbounded.delay(0, err.retry_after()),
        timber_core::RetryPolicy::MAX_SERVER_HINT
    );

    // The client waits the hinted second, not its own 10 ms.
    server.misbehave(Misbehave::status(429).retry_after("1"));
    let (client, _) = client_for(&server, transport, fast_retry(2));
    client.info("after the wait", (), None);
    let start = Instant::now();
    client.flush().unwrap();
    assert!(start.elapsed() >= Duration::from_secs(1));
    assert_eq!(server.records().len(), 1);
}

#[test]
fn a_400_is_not_retried_and_is_reported() {
    let server = https_server();
    let transport = transport_for(&server);
    // The server's own validation, through the transport.
    let bad = LogRecord {
        tags: (0..21).map(|i| i.to_string()).collect(),
        ..LogRecord::new(Level::Info, "too many tags")
    };
    let err =
        block_on(transport.send_batch(&endpoint(&server), &common::batch(&[bad]))).unwrap_err();
    assert!(err.message().starts_with("HTTP 400:"), "{err}");
    assert!(!err.is_retryable());
    assert!(err.message().contains("logs[0]: tags is too many"), "{err}");

    // Through the client: one attempt, the rejection reaches on_error.
    server.misbehave(Misbehave::status(400));
    let (client, errors) = client_for(&server, transport, fast_retry(3));
    client.info("refused", (), None);
    let _ = client.flush();
    let batch_requests = server
        .requests()
        .iter()
        .filter(|r| r.path == "/v1/logs")
        .count();
    assert_eq!(batch_requests, 2, "the 400 was retried");
    let errors = errors.lock().unwrap();
    assert!(
        errors.iter().any(
            |e| matches!(e, Error::Rejected { cause, .. } if cause.message().starts_with("HTTP 400:"))
        ),
        "{errors:?}"
    );
}

#[test]
fn a_slow_server_hits_the_request_timeout() {
    let server = https_server();
    server.misbehave(Misbehave::delay(Duration::from_secs(5)));
    let transport = builder_for(&server)
        .request_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let start = Instant::now();
    let err = block_on(transport.send_batch(&endpoint(&server), &common::batch(&records(1))))
        .unwrap_err();
    assert!(err.is_retryable());
    assert!(err.message().contains("timed out"), "{err}");
    assert!(start.elapsed() < HANG);
}

#[test]
fn a_closed_connection_is_retryable() {
    let server = https_server();
    server.misbehave(Misbehave::close());
    let transport = builder_for(&server).http2(false).build().unwrap();
    let err = block_on(transport.send_batch(&endpoint(&server), &common::batch(&records(1))))
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    block_on(transport.send_batch(&endpoint(&server), &common::batch(&records(1)))).unwrap();
}

#[test]
fn the_server_down_then_up() {
    let identity = TlsIdentity::generate().unwrap();
    let server = IngestServer::start(ServerConfig::new(KEY).tls(identity.clone())).unwrap();
    let port = server.addr().port();
    let transport = transport_for(&server);
    let (client, _) = client_for(&server, transport, fast_retry(1));
    server.shutdown();

    client.info("waits for the server", (), None);
    match client.flush() {
        Err(Error::Undelivered { cause, .. }) => {
            assert!(cause.is_retryable());
            assert!(cause.message().contains("cannot reach"), "{cause}");
        }
        other => panic!("expected Undelivered, got {other:?}"),
    }
    let server = IngestServer::start(ServerConfig::new(KEY).tls(identity).port(port)).unwrap();
    client.flush().unwrap();
    assert_eq!(server.records()[0].message, "waits for the server");
}

#[test]
fn an_untrusted_certificate_fails_with_a_clear_error() {
    let server = https_server();
    let other_ca = TlsIdentity::generate().unwrap();
    let strangers = [
        HyperTransport::new().unwrap(),
        HyperTransport::builder()
            .add_root_certificate_pem(other_ca.ca_pem())
            .build()
            .unwrap(),
    ];
    for transport in strangers {
        let err = block_on(transport.send_batch(&endpoint(&server), &common::batch(&records(1))))
            .unwrap_err();
        assert!(!err.is_retryable(), "{err}");
        assert!(
            err.message()
                .contains("TLS certificate verification failed"),
            "{err}"
        );
        assert!(err.message().contains("invalid peer certificate"), "{err}");
    }
    assert_eq!(server.summary().requests, 0);
}

#[test]
fn a_bad_ca_pem_fails_the_build() {
    let err = HyperTransport::builder()
        .add_root_certificate_pem("not a certificate")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("invalid CA certificate"), "{err}");
}

#[cfg(feature = "gzip")]
#[test]
fn gzip_bodies_are_decoded_by_the_server() {
    for server in servers() {
        let transport = builder_for(&server).gzip_min_bytes(1024).build().unwrap();
        let batch = common::batch(&records(200));
        block_on(transport.send_batch(&endpoint(&server), &batch)).unwrap();
        // Small bodies stay plain.
        block_on(transport.create_flow(&endpoint(&server), "small")).unwrap();
        assert_eq!(server.records(), batch.log_records());
        let requests = server.requests();
        assert_eq!(requests[0].content_encoding.as_deref(), Some("gzip"));
        assert_eq!(requests[1].content_encoding, None);
        let summary = server.summary();
        assert_eq!(summary.gzip_bodies, 1);
        assert!(
            (summary.wire_bytes as usize) < timber_transport_hyper::logs_body(&batch).len() / 3
        );
    }
}

#[test]
fn the_api_key_appears_in_no_error_and_no_debug_output() {
    let server = https_server();
    let transport = builder_for(&server)
        .request_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let ep = endpoint(&server);
    let mut outputs = vec![format!("{transport:?}"), format!("{ep:?}")];
    let mut collect = |r: Result<(), timber_core::transport::TransportError>| {
        let e = r.unwrap_err();
        outputs.push(e.to_string());
        outputs.push(format!("{e:?}"));
    };
    let one = || common::batch(&records(1));
    // Wrong key: the server answers 401.
    let wrong = timber_core::transport::Endpoint {
        api_key: timber_core::transport::ApiKey::new(format!("{KEY}-wrong")),
        ..ep.clone()
    };
    collect(block_on(transport.send_batch(&wrong, &one())));
    server.misbehave(Misbehave::status(500));
    collect(block_on(transport.send_batch(&ep, &one())));
    server.misbehave(Misbehave::status(429).retry_after("2"));
    collect(block_on(transport.send_batch(&ep, &one())));
    server.misbehave(Misbehave::delay(Duration::from_secs(3)));
    collect(block_on(transport.send_batch(&ep, &one())));
    let bad = LogRecord::new(Level::Info, "");
    collect(block_on(transport.send_batch(&ep, &common::batch(&[bad]))));
    // Plain http refused, untrusted certificate, nothing listening.
    let http = timber_core::transport::Endpoint {
        base_url: server.url().replace("https", "http"),
        ..ep.clone()
    };
    collect(block_on(transport.send_batch(&http, &one())));
    collect(block_on(
        HyperTransport::new().unwrap().send_batch(&ep, &one()),
    ));
    let down = timber_core::transport::Endpoint {
        base_url: "https://127.0.0.1:9".into(),
        ..ep.clone()
    };
    collect(block_on(transport.send_batch(&down, &one())));
    // Errors the client reports.
    let (client, errors) = client_for(&server, transport.clone(), fast_retry(0));
    server.misbehave(Misbehave::status(503));
    client.info("x", (), None);
    let _ = client.flush();
    outputs.push(format!("{client:?}"));
    for e in errors.lock().unwrap().iter() {
        outputs.push(e.to_string());
        outputs.push(format!("{e:?}"));
    }
    assert!(outputs.len() >= 20);
    for output in &outputs {
        assert!(!output.contains(KEY), "{output}");
        assert!(!output.contains("SECRETkey"), "{output}");
    }
}

#[test]
fn many_concurrent_clients() {
    let server = https_server();
    let shared = transport_for(&server);
    let threads: Vec<_> = (0..8)
        .map(|t| {
            // Half share one transport, half have their own.
            let transport = if t % 2 == 0 {
                shared.clone()
            } else {
                transport_for(&server)
            };
            let (client, _) = client_for(&server, transport, fast_retry(3));
            std::thread::spawn(move || {
                for i in 0..500 {
                    client.info(format!("client {t} log {i}"), (), None);
                }
                client.disconnect().unwrap();
                client.stats().sent
            })
        })
        .collect();
    let sent: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(sent, 4000);
    assert_eq!(server.summary().records, 4000);
}
