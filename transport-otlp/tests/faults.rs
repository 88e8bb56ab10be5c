//! Failures as the OTLP specification classifies them, against the real
//! receiver: retryable statuses with Retry-After, bad data isolated,
//! partial successes reported and never resent, hang-ups and timeouts,
//! certificates.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use futures::executor::block_on;
use timber_core::transport::{FailureKind, Transport};
use timber_core::{Level, LogRecord};
use timber_ingest_server::{IngestServer, Misbehave, ServerConfig, TlsIdentity};
use timber_transport_hyper::HttpClient;
use timber_transport_otlp::{Encoding, OtlpTransport, PartialSuccess};

fn records(n: usize) -> Vec<LogRecord> {
    (0..n)
        .map(|i| LogRecord {
            source: Some("faults".into()),
            timestamp: Some(1_700_000_000_000 + i as i64),
            ..LogRecord::new(Level::ALL[i % 4], format!("record {i}"))
        })
        .collect()
}

#[test]
fn statuses_map_onto_failure_kinds_with_retry_after() {
    let server = http_receiver();
    let transport = transport_for(&server);
    let send = || block_on(transport.send_batch(&endpoint(&server), &common::batch(&records(2))));
    for status in [429, 502, 503, 504] {
        server.misbehave(Misbehave::status(status).retry_after("7"));
        let err = send().unwrap_err();
        assert_eq!(err.kind(), FailureKind::Retry, "{status}");
        assert_eq!(err.retry_after(), Some(Duration::from_secs(7)), "{status}");
        assert!(
            err.to_string().starts_with(&format!("HTTP {status}")),
            "{err}"
        );
        assert!(err.to_string().contains("injected failure"), "{err}");
    }
    for status in [400, 413] {
        server.misbehave(Misbehave::status(status));
        assert_eq!(send().unwrap_err().kind(), FailureKind::Refused, "{status}");
    }
    for status in [401, 403, 404, 408, 500, 501] {
        server.misbehave(Misbehave::status(status).retry_after("7"));
        let err = send().unwrap_err();
        assert_eq!(err.kind(), FailureKind::Permanent, "{status}");
        assert_eq!(err.retry_after(), None, "{status}");
    }
    server.misbehave(Misbehave::close());
    assert_eq!(send().unwrap_err().kind(), FailureKind::Retry);
    send().unwrap();
    assert_eq!(otlp_records(&server).len(), 2);
}

#[test]
fn a_json_failure_quotes_the_status_message() {
    let server = http_receiver();
    let transport = builder_for(&server)
        .encoding(Encoding::Json)
        .build()
        .unwrap();
    server.misbehave(Misbehave::status(503));
    let err = block_on(transport.send_batch(&endpoint(&server), &common::batch(&records(1))))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "HTTP 503: service unavailable: injected failure"
    );
}

#[test]
fn a_client_retries_an_unavailable_collector_and_delivers_once() {
    let server = https_receiver();
    server.misbehave(Misbehave::status(503).retry_after("0").times(2));
    server.misbehave(Misbehave::close());
    let (client, errors) = client_for(&server, transport_for(&server), fast_retry(5));
    for r in records(30) {
        client.log(timber_core::LogEntry::new(r.level, r.message));
    }
    client.flush().unwrap();
    assert!(errors.lock().unwrap().is_empty());
    let bodies: Vec<String> = otlp_records(&server)
        .iter()
        .map(|r| body(r).to_owned())
        .collect();
    let expected: Vec<String> = (0..30).map(|i| format!("record {i}")).collect();
    assert_eq!(bodies, expected);
    let keys: Vec<_> = server
        .requests()
        .into_iter()
        .map(|r| r.idempotency_key.unwrap())
        .collect();
    assert_eq!(keys.len(), 4, "three failures, then the delivery");
    assert!(keys.iter().all(|k| *k == keys[0]), "one batch, one key");
    assert_eq!(client.stats().retried, 90);
}

#[test]
fn a_duplicate_after_a_lost_answer_is_stored_once_by_a_receiver_that_honours_the_key() {
    let server = http_receiver();
    let transport = builder_for(&server)
        .http(
            http_for(&server)
                .request_timeout(Duration::from_millis(300))
                .connect_timeout(Duration::from_millis(300)),
        )
        .build()
        .unwrap();
    let batch = common::batch(&records(3));
    server.misbehave(Misbehave::delay_answer(Duration::from_secs(1)));
    let err = block_on(transport.send_batch(&endpoint(&server), &batch)).unwrap_err();
    assert!(
        err.is_retryable() && err.to_string().contains("timed out"),
        "{err}"
    );
    block_on(transport.send_batch(&endpoint(&server), &batch)).unwrap();
    assert!(server.wait_until(common::HANG, |s| s.duplicate_batches == 1));
    assert_eq!(otlp_records(&server).len(), 3);
}

#[test]
fn partial_successes_are_counted_reported_and_never_resent() {
    for encoding in [Encoding::Protobuf, Encoding::Json] {
        let server = IngestServer::start(
            ServerConfig::new(KEY)
                .otlp()
                .otlp_reject_containing("reject-me"),
        )
        .unwrap();
        let seen: Arc<Mutex<Vec<PartialSuccess>>> = Arc::default();
        let sink = seen.clone();
        let transport = builder_for(&server)
            .encoding(encoding)
            .on_partial_success(move |p| sink.lock().unwrap().push(p.clone()))
            .build()
            .unwrap();
        let (client, errors) = client_for(&server, transport.clone(), fast_retry(3));
        for i in 0..10 {
            let message = if i % 4 == 1 {
                format!("reject-me {i}")
            } else {
                format!("keep {i}")
            };
            client.info(message, (), None);
        }
        client.disconnect().unwrap();
        assert!(errors.lock().unwrap().is_empty(), "{:?}", errors.lock());
        let stored: Vec<String> = otlp_records(&server)
            .iter()
            .map(|r| body(r).to_owned())
            .collect();
        assert_eq!(
            stored,
            ["keep 0", "keep 2", "keep 3", "keep 4", "keep 6", "keep 7", "keep 8"],
            "{encoding:?}"
        );
        assert_eq!(transport.rejected_records(), 3, "{encoding:?}");
        assert_eq!(transport.partial_successes(), 1);
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].rejected, 3);
        assert!(seen[0].message.contains("rejected"), "{:?}", seen[0]);
        assert_eq!(
            server.summary().requests,
            1,
            "a partial success is not resent"
        );
        // The client counts the request as delivered: the collector took it.
        assert_eq!(client.stats().sent, 10);
    }
}

#[test]
fn bad_data_is_isolated_and_only_it_is_given_up() {
    let server = IngestServer::start(
        ServerConfig::new(KEY)
            .otlp()
            .tls(TlsIdentity::generate().unwrap())
            .otlp_refuse_containing("poison"),
    )
    .unwrap();
    let (client, errors) = client_for(&server, transport_for(&server), fast_retry(2));
    log_with_one_poison_pill(&client);
    let stored = otlp_records(&server)
        .iter()
        .map(|r| body(r).to_owned())
        .collect();
    assert_only_the_pill_given_up(stored, &client);
    let errors = errors.lock().unwrap();
    assert!(
        errors.iter().any(|e| e.to_string().contains("HTTP 400")),
        "{errors:?}"
    );
}

#[test]
fn a_certificate_that_does_not_verify_is_permanent_and_plain_http_needs_allowing() {
    let server = https_receiver();
    let transport = OtlpTransport::builder()
        .http(HttpClient::builder().webpki_roots(true))
        .build()
        .unwrap();
    let err = block_on(transport.send_batch(&endpoint(&server), &common::batch(&records(1))))
        .unwrap_err();
    assert_eq!(err.kind(), FailureKind::Permanent, "{err}");
    assert!(err.to_string().contains("certificate"), "{err}");

    let plain = http_receiver();
    let transport = OtlpTransport::builder().build().unwrap();
    let err =
        block_on(transport.send_batch(&endpoint(&plain), &common::batch(&records(1)))).unwrap_err();
    assert_eq!(err.kind(), FailureKind::Permanent);
    assert!(err.to_string().contains("allow_http"), "{err}");
}

#[test]
fn an_unreachable_collector_is_retryable() {
    let server = http_receiver();
    let url = server.url();
    server.shutdown();
    let transport = OtlpTransport::builder()
        .http(HttpClient::builder().allow_http(true))
        .build()
        .unwrap();
    let endpoint = timber_core::transport::Endpoint {
        base_url: url,
        api_key: timber_core::transport::ApiKey::new(KEY),
    };
    let err = block_on(transport.send_batch(&endpoint, &common::batch(&records(1)))).unwrap_err();
    assert!(err.is_retryable(), "{err}");
}
