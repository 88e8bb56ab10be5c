//! Server answers that once stalled, duplicated or miscounted deliveries,
//! against the real ingest server on 127.0.0.1: an answer whose body never
//! ends, `200 {"success":false}`, a raw body retried after a late answer,
//! and server text that quotes the API key.

mod common;

use std::time::Duration;

use common::*;
use futures::executor::block_on;
use timber_core::transport::Transport;
use timber_core::{Error, RawFormat};
use timber_ingest_server::Misbehave;

#[test]
fn a_2xx_whose_body_never_ends_is_delivered_once_not_resent() {
    let server = https_server();
    server.misbehave(Misbehave::stall_body());
    let transport = builder_for(&server)
        .request_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let batch = common::batch(&records(5));
    block_on(transport.send_batch(&endpoint(&server), &batch)).unwrap();

    // Through the client: stored once, counted sent, nothing lost.
    server.misbehave(Misbehave::stall_body());
    let (client, errors) = client_for(&server, transport, fast_retry(5));
    client.info("stalled answer", (), None);
    client.flush().unwrap();
    assert_eq!(server.records().len(), 6);
    assert_eq!(server.requests().len(), 2, "nothing was resent");
    let stats = client.stats();
    assert_eq!((stats.sent, stats.lost, stats.retried), (1, 0, 0));
    assert!(errors.lock().unwrap().is_empty());
}

#[test]
fn success_false_is_a_refusal_counted_reported_and_returned_by_flush() {
    let server = https_server();
    let refusal = r#"{"success":false,"error":"quota exceeded"}"#;
    server.misbehave(Misbehave::answer(200, refusal));
    let transport = transport_for(&server);
    let err = block_on(transport.send_batch(&endpoint(&server), &common::batch(&records(1))))
        .unwrap_err();
    assert!(err.is_refused() && !err.is_retryable(), "{err}");
    assert!(err.to_string().contains("quota exceeded"), "{err}");

    // Through the client: the refused batch is halved down to the refused
    // record, which is counted lost and reported; the flush says so.
    server.misbehave(Misbehave::answer(200, refusal).times(3));
    let (client, errors) = client_for(&server, transport, fast_retry(2));
    client.info("a", (), None).info("b", (), None);
    let flushed = client.flush();
    assert!(
        matches!(&flushed, Err(Error::Rejected { records: 1, .. })),
        "{flushed:?}"
    );
    let stats = client.stats();
    assert_eq!((stats.sent, stats.lost), (0, 2), "{stats:?}");
    assert_eq!(server.records().len(), 0);
    assert_eq!(errors.lock().unwrap().len(), 2);
    // Later flushes cover no refused record.
    client.info("c", (), None);
    client.flush().unwrap();
}

#[test]
fn a_raw_body_retried_after_a_late_answer_is_stored_once() {
    let server = https_server();
    // The first attempt is stored, but answered after the client gave up.
    server.misbehave(Misbehave::delay_answer(Duration::from_secs(5)));
    let transport = builder_for(&server)
        .request_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let (client, _) = client_for(&server, transport, fast_retry(5));
    client
        .ingest_raw("level,message\ninfo,once", RawFormat::Csv, None)
        .unwrap();
    let requests = server.requests();
    assert_eq!(
        requests.len(),
        1,
        "the retry (the late one is never answered)"
    );
    assert!(requests[0].idempotency_key.is_some());
    assert_eq!(server.raw_ingestions().len(), 1, "stored once");
    assert_eq!(
        server.summary().duplicate_batches,
        1,
        "the retry was a repeat"
    );
}

#[test]
fn server_text_quoting_the_key_never_reaches_an_error() {
    let server = https_server();
    let transport = transport_for(&server);
    let upper = KEY.to_uppercase();
    let encoded = KEY.replace('_', "%5F");
    // A prefix the server cut, JSON's `\/` between its halves, a line break.
    let prefix = format!("{}...", &KEY[..KEY.len() / 2 + 4]);
    let (head, tail) = KEY.split_at(KEY.len() / 2);
    let slashed = format!("{head}\\/{tail}");
    let split = format!("{head}\n  {tail}");
    for echo in [KEY, &upper, &encoded, &prefix, &slashed, &split] {
        server.misbehave(Misbehave::answer(
            401,
            format!("{{\"error\":\"bad key {echo}\"}}"),
        ));
        let err = block_on(transport.send_batch(&endpoint(&server), &common::batch(&records(1))))
            .unwrap_err();
        let shown = format!("{err} {err:?}").to_lowercase();
        let key: Vec<char> = KEY.to_lowercase().chars().collect();
        for piece in key.windows(8) {
            let piece: String = piece.iter().collect();
            assert!(!shown.contains(&piece), "{piece:?} of the key in {shown}");
        }
    }
}
