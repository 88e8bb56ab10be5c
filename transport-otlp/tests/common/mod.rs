//! Shared helpers: a real OTLP/HTTP receiver on 127.0.0.1 (the ingest
//! server in OTLP mode, which decodes requests with the official
//! `opentelemetry-proto` types) and a transport for it.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use timber_core::transport::{ApiKey, Endpoint};
use timber_core::{Client, Error, RetryPolicy};
use timber_ingest_server::{IngestServer, ServerConfig, TlsIdentity};
use timber_transport_hyper::{HttpClient, HttpClientBuilder};
use timber_transport_otlp::proto::collector::logs::v1::ExportLogsServiceRequest;
use timber_transport_otlp::proto::logs::v1::LogRecord as OtlpRecord;
use timber_transport_otlp::{OtlpTransport, OtlpTransportBuilder};

/// The key every test uses; no output may ever contain it.
pub const KEY: &str = "tb_test_Otlp9SECRETkey0815";

pub fn https_receiver() -> IngestServer {
    receiver(
        ServerConfig::new(KEY)
            .otlp()
            .tls(TlsIdentity::generate().unwrap()),
    )
}

pub fn http_receiver() -> IngestServer {
    receiver(ServerConfig::new(KEY).otlp())
}

pub fn receiver(config: ServerConfig) -> IngestServer {
    IngestServer::start(config).unwrap()
}

/// Both kinds, for tests that must pass over HTTP and HTTPS.
pub fn receivers() -> Vec<IngestServer> {
    vec![https_receiver(), http_receiver()]
}

/// HTTP settings that trust the receiver's CA (HTTPS) or allow http://.
pub fn http_for(server: &IngestServer) -> HttpClientBuilder {
    match server.ca_pem() {
        Some(pem) => HttpClient::builder()
            .add_root_certificate_pem(pem)
            .webpki_roots(false),
        None => HttpClient::builder().allow_http(true),
    }
}

pub fn builder_for(server: &IngestServer) -> OtlpTransportBuilder {
    OtlpTransport::builder().http(http_for(server))
}

pub fn transport_for(server: &IngestServer) -> OtlpTransport {
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
        max_delay: Duration::from_millis(200),
        jitter: false,
    }
}

/// A client for the receiver, with the errors it reports collected.
pub fn client_for(
    server: &IngestServer,
    transport: OtlpTransport,
    retry: RetryPolicy,
) -> (Client, Arc<Mutex<Vec<Error>>>) {
    client_at(server.url(), transport, retry)
}

/// A client for the collector at `base_url`, with the errors it reports
/// collected.
pub fn client_at(
    base_url: String,
    transport: OtlpTransport,
    retry: RetryPolicy,
) -> (Client, Arc<Mutex<Vec<Error>>>) {
    let errors = Arc::new(Mutex::new(Vec::new()));
    let sink = errors.clone();
    let client = Client::builder()
        .source("otlp-tests")
        .api_key(KEY)
        .base_url(base_url)
        .retry(retry)
        .batch_size(100)
        .on_error(move |e| sink.lock().unwrap().push(e.clone()))
        .transport(transport)
        .build()
        .unwrap();
    (client, errors)
}

/// Every log record the receiver stored, in order.
pub fn otlp_records(server: &IngestServer) -> Vec<OtlpRecord> {
    let requests: Vec<ExportLogsServiceRequest> = server.otlp_requests();
    requests
        .into_iter()
        .flat_map(|r| r.resource_logs)
        .flat_map(|r| r.scope_logs)
        .flat_map(|s| s.log_records)
        .collect()
}

/// The string body of an OTLP record.
pub fn body(record: &OtlpRecord) -> &str {
    use timber_transport_otlp::proto::common::v1::any_value::Value;
    match record.body.as_ref().and_then(|b| b.value.as_ref()) {
        Some(Value::StringValue(s)) => s,
        _ => "",
    }
}

/// Logs 16 records, the twelfth a "poison pill" a receiver refuses, and
/// closes the client.
pub fn log_with_one_poison_pill(client: &Client) {
    for i in 0..16 {
        let message = if i == 11 {
            "poison pill".to_owned()
        } else {
            format!("good {i}")
        };
        client.info(message, (), None);
    }
    client.disconnect().unwrap();
}

/// That every good record of [`log_with_one_poison_pill`] was stored, once,
/// and only the pill given up. The halves of the refused batch may be
/// overtaken by later batches (within the in-flight window), so compare as
/// a set.
pub fn assert_only_the_pill_given_up(mut stored: Vec<String>, client: &Client) {
    stored.sort();
    let mut expected: Vec<String> = (0..16)
        .filter(|i| *i != 11)
        .map(|i| format!("good {i}"))
        .collect();
    expected.sort();
    assert_eq!(stored, expected);
    let stats = client.stats();
    assert_eq!((stats.sent, stats.lost), (15, 1), "{stats:?}");
}

/// Generous bound used only to detect a hang, never to judge speed.
pub const HANG: Duration = Duration::from_secs(30);

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
