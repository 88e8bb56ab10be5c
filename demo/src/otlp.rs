//! The OpenTelemetry scenario: the same SDK client shipping to the ingest
//! server's OTLP receiver (HTTPS, a certificate generated now), over
//! OTLP/HTTP protobuf and over OTLP/gRPC, as it would to any collector.

use std::error::Error as StdError;

use serde_json::json;
use timber_ingest_server::{IngestServer, ServerConfig, TlsIdentity};
use timber_sdk::otlp::proto::common::v1::any_value::Value;
use timber_sdk::otlp::{Encoding, HttpClient, OtlpTransport};
use timber_sdk::{Environment, LogOptions};

/// Ships a few records over each protocol; what the receiver got, per
/// protocol, or what is missing.
pub(crate) fn run() -> Result<(), Box<dyn StdError>> {
    let collector = IngestServer::start(
        ServerConfig::new("unused-by-the-collector")
            .otlp()
            .tls(TlsIdentity::generate()?),
    )?;
    println!("\nOTLP receiver listening on {}", collector.url());
    for (encoding, name) in [
        (Encoding::Protobuf, "OTLP/HTTP protobuf"),
        (Encoding::Grpc, "OTLP/gRPC"),
    ] {
        let transport = OtlpTransport::builder()
            .http(
                HttpClient::builder()
                    .add_root_certificate_pem(collector.ca_pem().unwrap_or_default()),
            )
            .encoding(encoding)
            .build()?;
        let client = timber_sdk::builder()
            .source("demo-otel")
            .environment(Environment::Development)
            .api_key("unused-by-the-collector")
            .base_url(collector.url())
            .transport(transport)
            .build()?;
        let flow = client.flow("export")?;
        flow.info(format!("over {name}"), json!({"step": "start"}), None)
            .warn(
                "slow exporter",
                json!({"ms": 420}),
                LogOptions::tags(["otel"]),
            );
        client.disconnect()?;
        let stats = client.stats();
        if stats.sent != 2 || stats.lost != 0 {
            return Err(format!("{name}: sent {} of 2 ({stats:?})", stats.sent).into());
        }
    }
    let bodies: Vec<String> = collector
        .otlp_requests()
        .iter()
        .flat_map(|r| &r.resource_logs)
        .flat_map(|r| &r.scope_logs)
        .flat_map(|s| &s.log_records)
        .filter_map(|r| match r.body.as_ref()?.value.as_ref()? {
            Value::StringValue(s) => Some(s.clone()),
            _ => None,
        })
        .collect();
    let expected = [
        "over OTLP/HTTP protobuf",
        "slow exporter",
        "over OTLP/gRPC",
        "slow exporter",
    ];
    if bodies != expected {
        return Err(format!("the OTLP receiver holds {bodies:?}, not {expected:?}").into());
    }
    // Each flow is one trace: its records share a trace id, the flows not.
    let traces: Vec<Vec<Vec<u8>>> = collector
        .otlp_requests()
        .iter()
        .map(|r| {
            let mut ids: Vec<Vec<u8>> = r
                .resource_logs
                .iter()
                .flat_map(|r| &r.scope_logs)
                .flat_map(|s| &s.log_records)
                .map(|r| r.trace_id.clone())
                .collect();
            ids.dedup();
            ids
        })
        .collect();
    let one_each = traces
        .iter()
        .all(|ids| ids.len() == 1 && ids[0].len() == 16);
    if !one_each || traces.len() != 2 || traces[0] == traces[1] {
        return Err(format!("each flow should be one trace: {traces:?}").into());
    }
    let requests = collector.requests();
    let grpc = requests
        .iter()
        .filter(|r| r.content_type.as_deref() == Some("application/grpc"))
        .count();
    println!(
        "  {} log records in {} exports ({grpc} over gRPC), each flow one trace id",
        bodies.len(),
        requests.len()
    );
    Ok(())
}
