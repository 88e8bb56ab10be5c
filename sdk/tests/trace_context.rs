//! Records know their trace: with a real OpenTelemetry tracer
//! (`opentelemetry_sdk`) under `tracing-opentelemetry`, events and the
//! client's own calls inside a span arrive with exactly that span's trace
//! id, span id and flags, over the Timberlogs protocol (HTTPS) and over OTLP
//! (protobuf, JSON and gRPC), each at a real local server; outside any span they
//! carry none; a flow started in a span, or from an incoming `traceparent`,
//! carries that trace.

mod common;

use std::time::Duration;

use common::*;
use opentelemetry::trace::{SpanContext, TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde_json::Value;
use timber_ingest_server::{IngestServer, ServerConfig};
use timber_sdk::otlp::proto::common::v1::any_value::Value as Any;
use timber_sdk::otlp::{Encoding, HttpClient, OtlpTransport};
use timber_sdk::{Client, LogRecord, TimberLayer};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;

const INCOMING: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

/// What the program logs, and the span context it logged it in.
fn log_in_a_span(client: &Client) -> SpanContext {
    let provider = SdkTracerProvider::builder().build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")))
        .with(TimberLayer::new(client.clone()));
    let context = tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("handle request");
        let context = span.context().span().span_context().clone();
        span.in_scope(|| {
            tracing::info!("event inside");
            client.info("call inside", (), None);
            let flow = client.flow("checkout").unwrap();
            flow.info("flow step", (), None);
            tracing::info_span!("inner")
                .in_scope(|| flow.info("flow step in a child span", (), None));
        });
        tracing::info!("event outside");
        client.info("call outside", (), None);
        client
            .flow_continuing("continued", Some(INCOMING))
            .unwrap()
            .info("continued step", (), None);
        context
    });
    client.flush().unwrap();
    context
}

/// Over the Timberlogs protocol: the record's `data` keys.
fn data_traces(records: &[LogRecord]) -> Traces {
    let trace_of = |record: &LogRecord| {
        let data = record.data.as_ref()?;
        let text = |key| data.get(key).and_then(Value::as_str).map(str::to_owned);
        Some((text("traceId")?, text("spanId")?, text("traceFlags")?))
    };
    records
        .iter()
        .map(|r| (r.message.clone(), trace_of(r)))
        .collect()
}

/// Over OTLP: the log record's own fields, decoded by the official types.
fn otlp_traces(server: &IngestServer) -> Traces {
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let mut out = Vec::new();
    for request in server.otlp_requests() {
        let records = request
            .resource_logs
            .iter()
            .flat_map(|r| &r.scope_logs)
            .flat_map(|s| &s.log_records);
        for record in records {
            let message = match record.body.as_ref().and_then(|b| b.value.as_ref()) {
                Some(Any::StringValue(s)) => s.clone(),
                other => panic!("a body of {other:?}"),
            };
            // A flow's own trace has no span: not a trace context.
            let trace = (!record.span_id.is_empty()).then(|| {
                (
                    hex(&record.trace_id),
                    hex(&record.span_id),
                    format!("{:02x}", record.flags),
                )
            });
            out.push((message, trace));
        }
    }
    out
}

/// The three ids of each message, as the protocol delivered them.
type Traces = Vec<(String, Option<(String, String, String)>)>;

fn check(traces: &Traces, context: &SpanContext, protocol: &str) {
    assert!(context.is_valid() && context.is_sampled());
    let of = |message: &str| {
        traces
            .iter()
            .find(|(m, _)| m == message)
            .unwrap_or_else(|| panic!("{protocol}: no {message:?} in {traces:?}"))
            .1
            .clone()
    };
    let expected = Some((
        format!("{:032x}", context.trace_id()),
        format!("{:016x}", context.span_id()),
        "01".to_owned(),
    ));
    for message in [
        "event inside",
        "call inside",
        "flow step",
        "flow step in a child span",
    ] {
        assert_eq!(of(message), expected, "{protocol}: {message}");
    }
    for message in ["event outside", "call outside"] {
        assert_eq!(of(message), None, "{protocol}: {message}");
    }
    let continued = Some((
        "0af7651916cd43dd8448eb211c80319c".to_owned(),
        "b7ad6b7169203331".to_owned(),
        "01".to_owned(),
    ));
    assert_eq!(of("continued step"), continued, "{protocol}");
}

#[test]
fn over_the_timberlogs_protocol_records_carry_their_span_s_ids_in_data() {
    let server = https_server();
    let client = timber_sdk::builder()
        .source("traced")
        .api_key(KEY)
        .base_url(server.url())
        .transport(
            timber_sdk::HyperTransport::builder()
                .add_root_certificate_pem(server.ca_pem().unwrap())
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let context = log_in_a_span(&client);
    check(&data_traces(&server.records()), &context, "timberlogs");
}

#[test]
fn over_otlp_http_and_grpc_records_carry_their_span_s_ids_in_the_log_record() {
    for encoding in [Encoding::Protobuf, Encoding::Json, Encoding::Grpc] {
        let server = IngestServer::start(ServerConfig::new("unused").otlp()).unwrap();
        let transport = OtlpTransport::builder()
            .encoding(encoding)
            .http(HttpClient::builder().allow_http(true).no_proxy())
            .build()
            .unwrap();
        let client = timber_sdk::builder()
            .source("traced")
            .api_key("unused")
            .base_url(server.url())
            .transport(transport)
            .build()
            .unwrap();
        let context = log_in_a_span(&client);
        assert!(server.wait_until(Duration::from_secs(10), |s| s.records >= 7));
        check(&otlp_traces(&server), &context, &format!("{encoding:?}"));
    }
}
