//! A healthy service that answers slowly, at every default: a burst many
//! times the queue loses nothing, because callers wait while deliveries make
//! progress, however long each round trip takes.

mod common;

use std::time::Duration;

use common::*;
use timber_core::{Client, Error};
use timber_ingest_server::Misbehave;

#[test]
fn a_burst_into_a_service_answering_in_250_ms_loses_nothing_at_the_defaults() {
    let server = https_server();
    server.misbehave(Misbehave::delay(Duration::from_millis(250)).times(u32::MAX));
    let errors = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Error>::new()));
    let sink = errors.clone();
    let client = Client::builder()
        .source("slow-service")
        .api_key(KEY)
        .base_url(server.url())
        .on_error(move |e| sink.lock().unwrap().push(e.clone()))
        .transport(transport_for(&server))
        .build()
        .unwrap();
    // Five times the default queue (10,000).
    for i in 0..50_000 {
        client.info(format!("burst {i}"), (), None);
    }
    client.flush().unwrap();
    let stats = client.stats();
    assert_eq!((stats.sent, stats.dropped), (50_000, 0), "{stats:?}");
    assert!(
        errors.lock().unwrap().is_empty(),
        "{:?}",
        errors.lock().unwrap()
    );
    assert_eq!(server.records().len(), 50_000);
    // Every request waited its 250 ms.
    assert!(server.requests().len() >= 50);
}
