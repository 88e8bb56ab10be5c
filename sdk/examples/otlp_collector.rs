//! Ship to an OpenTelemetry Collector over OTLP/HTTP (feature `otlp`), and
//! from there to any backend. The client is the same; only the transport
//! changes: each batch goes as one OTLP logs export, every field mapped to
//! the OpenTelemetry log data model (a flow becomes a trace).
//!
//! ```sh
//! cargo run --example otlp_collector --features otlp                           # a local OTLP receiver
//! cargo run --example otlp_collector --features otlp -- http://localhost:4318  # your collector
//! ```
//!
//! Without an argument it starts a local OTLP receiver on 127.0.0.1 (the
//! ingest server in OTLP mode, which decodes requests with the official
//! protobuf types) and prints what arrived.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use timber_ingest_server::{IngestServer, ServerConfig};
use timber_sdk::otlp::proto::common::v1::any_value::Value;
use timber_sdk::otlp::{HttpClient, OtlpTransport};
use timber_sdk::{json, Environment, LogOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let local = match std::env::args().nth(1) {
        Some(_) => None,
        None => Some(IngestServer::start(ServerConfig::new("unused").otlp())?),
    };
    let endpoint = std::env::args()
        .nth(1)
        .or_else(|| local.as_ref().map(IngestServer::url))
        .unwrap_or_default();
    eprintln!("shipping to the OTLP/HTTP endpoint {endpoint}/v1/logs");

    let rejected = Arc::new(AtomicU64::new(0));
    let counter = rejected.clone();
    let transport = OtlpTransport::builder()
        // A collector inside the cluster speaks plain HTTP; TLS, proxies and
        // headers (a tenant, a bearer token) are configured here as for HTTPS.
        .http(HttpClient::builder().allow_http(true).no_proxy())
        .on_partial_success(move |p| {
            counter.fetch_add(p.rejected, Ordering::Relaxed);
            eprintln!(
                "the collector rejected {} records: {}",
                p.rejected, p.message
            );
        })
        .build()?;
    let client = timber_sdk::builder()
        .source("checkout")
        .environment(Environment::Production)
        .version("2.3.1")
        // A collector asks for no key; the client's is not sent unless
        // `api_key_header` names a header for it.
        .api_key("unused-by-the-collector")
        .base_url(&endpoint)
        .transport(transport)
        .build()?;

    client.set_user_id(Some("user-7"));
    client.info(
        "cart loaded",
        json!({"items": 3, "total": 59.9}),
        LogOptions::tags(["cart"]),
    );
    let flow = client.flow("payment")?;
    flow.info("card submitted", json!({"method": "visa"}), None);
    let err = std::io::Error::new(std::io::ErrorKind::TimedOut, "gateway timed out");
    flow.error("payment failed", &err, None);
    flow.info("retry succeeded", (), None);
    client.disconnect()?;

    let Some(collector) = local else {
        return Ok(());
    };
    let mut records = 0;
    for request in collector.otlp_requests() {
        for resource_logs in &request.resource_logs {
            let resource: Vec<String> = resource_logs
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .map(|kv| {
                    format!(
                        "{}={}",
                        kv.key,
                        text(kv.value.as_ref().and_then(|v| v.value.as_ref()))
                    )
                })
                .collect();
            println!("resource {}", resource.join(", "));
            for record in resource_logs.scope_logs.iter().flat_map(|s| &s.log_records) {
                records += 1;
                let attributes: Vec<&str> =
                    record.attributes.iter().map(|kv| kv.key.as_str()).collect();
                let trace: String = record.trace_id.iter().map(|b| format!("{b:02x}")).collect();
                println!(
                    "  {} {:<16} trace {:<32} attributes {}",
                    record.severity_text,
                    text(record.body.as_ref().and_then(|b| b.value.as_ref())),
                    if trace.is_empty() { "-" } else { &trace },
                    attributes.join(", ")
                );
            }
        }
    }
    if records != 4 || rejected.load(Ordering::Relaxed) != 0 {
        return Err(format!("the collector received {records} records, 4 were logged").into());
    }
    println!("the collector received all {records} records");
    Ok(())
}

/// A string value as text, other values as their debug form.
fn text(value: Option<&Value>) -> String {
    match value {
        Some(Value::StringValue(s)) => s.clone(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}
