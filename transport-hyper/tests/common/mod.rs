//! Shared helpers: a real ingest server on 127.0.0.1 and a transport for it.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use timber_core::transport::{ApiKey, Endpoint};
use timber_core::{Client, Error, Level, LogRecord, RetryPolicy};
use timber_ingest_server::{IngestServer, ServerConfig, TlsIdentity};
use timber_transport_hyper::{HyperTransport, HyperTransportBuilder};

/// The key every test uses; no output may ever contain it.
pub const KEY: &str = "tb_test_Zq9xSECRETkey4711";

/// Generous bound used only to detect a hang, never to judge speed.
pub const HANG: Duration = Duration::from_secs(30);

pub fn https_server() -> IngestServer {
    IngestServer::start(ServerConfig::new(KEY).tls(TlsIdentity::generate().unwrap())).unwrap()
}

pub fn http_server() -> IngestServer {
    IngestServer::start(ServerConfig::new(KEY)).unwrap()
}

/// Both kinds, for tests that must pass over HTTP and HTTPS.
pub fn servers() -> Vec<IngestServer> {
    vec![https_server(), http_server()]
}

/// A builder that trusts the server's CA (HTTPS) or allows http:// (HTTP).
pub fn builder_for(server: &IngestServer) -> HyperTransportBuilder {
    match server.ca_pem() {
        Some(pem) => HyperTransport::builder().add_root_certificate_pem(pem),
        None => HyperTransport::builder().allow_http(true),
    }
}

pub fn transport_for(server: &IngestServer) -> HyperTransport {
    builder_for(server).build().unwrap()
}

pub fn endpoint(server: &IngestServer) -> Endpoint {
    Endpoint {
        base_url: server.url(),
        api_key: ApiKey::new(KEY),
    }
}

/// Retries quickly, so that tests about retrying do not wait seconds.
pub fn fast_retry(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries,
        initial_delay: Duration::from_millis(10),
        multiplier: 2.0,
        max_delay: Duration::from_secs(5),
        jitter: false,
    }
}

/// A client for the server, with the errors it reports collected.
pub fn client_for(
    server: &IngestServer,
    transport: HyperTransport,
    retry: RetryPolicy,
) -> (Client, Arc<Mutex<Vec<Error>>>) {
    let errors = Arc::new(Mutex::new(Vec::new()));
    let sink = errors.clone();
    let client = Client::builder()
        .source("transport-tests")
        .api_key(KEY)
        .base_url(server.url())
        .retry(retry)
        .batch_size(100)
        .on_error(move |e| sink.lock().unwrap().push(e.clone()))
        .transport(transport)
        .build()
        .unwrap();
    (client, errors)
}

pub fn records(n: usize) -> Vec<LogRecord> {
    (0..n)
        .map(|i| LogRecord {
            source: Some("transport-tests".into()),
            timestamp: Some(1_700_000_000_000 + i as i64),
            tags: vec!["t".into()],
            ..LogRecord::new(Level::ALL[i % 4], format!("record {i}"))
        })
        .collect()
}

/// A batch of these wire records, under the first one's resource (source,
/// environment, version), `test-app` in production when it has none.
pub fn batch(records: &[timber_core::LogRecord]) -> timber_core::transport::Batch {
    let first = records.first();
    let resource = timber_core::transport::Resource::new(
        first
            .and_then(|r| r.source.clone())
            .unwrap_or_else(|| "test-app".into()),
        first
            .and_then(|r| r.environment)
            .unwrap_or(timber_core::Environment::Production),
        first.and_then(|r| r.version.clone()),
    );
    let records = records
        .iter()
        .cloned()
        .map(timber_core::Record::from)
        .collect();
    timber_core::transport::Batch::new(resource, records)
}
