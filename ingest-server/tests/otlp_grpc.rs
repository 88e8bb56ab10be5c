//! OTLP/gRPC logs: the server in OTLP mode called through the official
//! generated client (`opentelemetry-proto`'s `LogsServiceClient` on tonic),
//! over h2c and over HTTPS, and the binary's `--otlp` receiver the same way;
//! what tonic cannot send (a truncated frame, a compressed message without
//! its encoding, a non-gRPC content type) as bare HTTP/1.1 requests.
#![cfg(feature = "otlp")]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs, SeverityNumber};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;
use timber_ingest_server::{IngestServer, Misbehave, ServerConfig, TlsIdentity};
use tonic::codec::CompressionEncoding;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};
use tonic::Code;
use tonic_types::StatusExt;

const KEY: &str = "tb_test_grpc";
const EXPORT: &str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

fn text(value: &str) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(any_value::Value::StringValue(value.to_owned())),
    })
}

fn attribute(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: text(value),
        ..Default::default()
    }
}

/// One resource, one scope, a record per body: each with a severity,
/// attributes and a trace context.
fn logs(bodies: &[&str]) -> ExportLogsServiceRequest {
    let records = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| LogRecord {
            time_unix_nano: 1_700_000_000_000_000_000 + i as u64,
            observed_time_unix_nano: 1_700_000_000_000_000_500,
            severity_number: SeverityNumber::Warn as i32,
            severity_text: "WARN".into(),
            body: text(body),
            attributes: vec![attribute("user.id", "u-1"), attribute("n", &i.to_string())],
            trace_id: (1..=16).collect(),
            span_id: (0xa1..=0xa8).collect(),
            flags: 1,
            ..Default::default()
        })
        .collect();
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![attribute("service.name", "grpc-test")],
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                scope: Some(InstrumentationScope {
                    name: "otlp-grpc-test".into(),
                    ..Default::default()
                }),
                log_records: records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn otlp_server(config: ServerConfig) -> IngestServer {
    IngestServer::start(config.otlp()).unwrap()
}

async fn client(url: String) -> LogsServiceClient<Channel> {
    LogsServiceClient::connect(url).await.expect("h2c connects")
}

/// An export with metadata (`x-api-key`, `idempotency-key`).
async fn export(
    client: &mut LogsServiceClient<Channel>,
    request: ExportLogsServiceRequest,
    metadata: &[(&'static str, &str)],
) -> Result<ExportLogsServiceResponse, tonic::Status> {
    let mut request = tonic::Request::new(request);
    for (name, value) in metadata {
        request.metadata_mut().insert(*name, value.parse().unwrap());
    }
    client
        .export(request)
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn records_arrive_as_sent_and_are_stored() {
    let server = otlp_server(ServerConfig::new(KEY));
    let mut client = client(server.url()).await;
    let sent = logs(&["first over grpc", "second over grpc"]);
    let answer = export(&mut client, sent.clone(), &[]).await.unwrap();
    assert_eq!(answer.partial_success, None);
    // Bodies, severities, attributes, trace and span ids: all of it.
    assert_eq!(server.otlp_requests(), vec![sent]);
    let summary = server.summary();
    assert_eq!((summary.batches, summary.records), (1, 2));
    let request = server.requests().pop().unwrap();
    assert_eq!(request.path, EXPORT);
    assert_eq!(request.version, "HTTP/2.0");
    assert_eq!(request.status, Some(200));
    assert_eq!(request.grpc_status, Some(0));
    assert_eq!(request.content_type.as_deref(), Some("application/grpc"));
}

#[tokio::test]
async fn a_grpc_export_is_stored_as_the_same_export_over_http() {
    let grpc = otlp_server(ServerConfig::new(KEY));
    let http = otlp_server(ServerConfig::new(KEY));
    let sent = logs(&["same either way"]);
    export(&mut client(grpc.url()).await, sent.clone(), &[])
        .await
        .unwrap();
    let (head, _) = raw_call(
        http.addr(),
        "/v1/logs",
        "application/x-protobuf",
        &[],
        &sent.encode_to_vec(),
    );
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert_eq!(grpc.otlp_requests(), http.otlp_requests());
    assert_eq!(grpc.records(), http.records());
    let comparable = |server: &IngestServer| {
        let mut summary = server.summary();
        // The gRPC message has its 5-byte prefix; each came on its own connection.
        summary.wire_bytes = 0;
        summary.connections = 0;
        summary
    };
    assert_eq!(comparable(&grpc), comparable(&http));
    assert_eq!(grpc.summary().wire_bytes, http.summary().wire_bytes + 5);
}

#[tokio::test]
async fn a_gzip_compressed_message_is_decoded() {
    let server = otlp_server(ServerConfig::new(KEY));
    let mut client = client(server.url())
        .await
        .send_compressed(CompressionEncoding::Gzip);
    let sent = logs(&[&"compressible ".repeat(200)]);
    export(&mut client, sent.clone(), &[]).await.unwrap();
    assert_eq!(server.otlp_requests(), vec![sent.clone()]);
    let summary = server.summary();
    assert_eq!(summary.gzip_bodies, 1);
    assert!(summary.wire_bytes < sent.encoded_len() as u64 / 4);
    let request = server.requests().pop().unwrap();
    assert_eq!(request.header("grpc-encoding"), Some("gzip"));
}

#[tokio::test]
async fn the_refuse_marker_is_an_invalid_argument_and_nothing_is_stored() {
    let server = otlp_server(ServerConfig::new(KEY).otlp_refuse_containing("BAD"));
    let mut client = client(server.url()).await;
    let status = export(&mut client, logs(&["fine", "this is BAD data"]), &[])
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().contains("\"BAD\""), "{status:?}");
    assert!(server.otlp_requests().is_empty());
    assert_eq!(server.summary().rejected, 1);
    let request = server.requests().pop().unwrap();
    assert_eq!(request.grpc_status, Some(3));
    assert_eq!(request.reason.as_deref(), Some(status.message()));
}

#[tokio::test]
async fn the_reject_marker_is_a_partial_success() {
    let server = otlp_server(ServerConfig::new(KEY).otlp_reject_containing("DROP"));
    let mut client = client(server.url()).await;
    let answer = export(&mut client, logs(&["kept", "DROP me", "DROP me too"]), &[])
        .await
        .unwrap();
    let partial = answer.partial_success.expect("a partial success");
    assert_eq!(partial.rejected_log_records, 2);
    assert!(partial.error_message.contains("reject marker"));
    assert_eq!(server.otlp_requests(), vec![logs(&["kept"])]);
    assert_eq!(server.summary().records, 1);
}

#[tokio::test]
async fn a_wrong_api_key_is_unauthenticated() {
    let server = otlp_server(ServerConfig::new(KEY));
    let mut client = client(server.url()).await;
    let status = export(&mut client, logs(&["x"]), &[("x-api-key", "tb_wrong")])
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert_eq!(server.summary().unauthorized, 1);
    export(&mut client, logs(&["y"]), &[("x-api-key", KEY)])
        .await
        .unwrap();
    let requests = server.requests();
    assert_eq!(
        requests.iter().map(|r| r.authorized).collect::<Vec<_>>(),
        [false, true]
    );
    assert_eq!(server.otlp_requests(), vec![logs(&["y"])]);
}

#[tokio::test]
async fn an_injected_outage_is_unavailable_with_a_retry_info() {
    let server = otlp_server(ServerConfig::new(KEY));
    server.misbehave(Misbehave::status(503).retry_after("2"));
    let mut client = client(server.url()).await;
    let status = export(&mut client, logs(&["x"]), &[]).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert_eq!(status.message(), "injected failure");
    let retry = status.get_details_retry_info().expect("a RetryInfo");
    assert_eq!(retry.retry_delay, Some(Duration::from_secs(2)));
    // The fault is spent: the same client goes on.
    export(&mut client, logs(&["x"]), &[]).await.unwrap();
    let summary = server.summary();
    assert_eq!(
        (summary.faults, summary.records, summary.rejected),
        (1, 1, 0)
    );
}

#[tokio::test]
async fn other_faults_map_to_their_codes_or_act_as_over_http() {
    let server = otlp_server(ServerConfig::new(KEY));
    let mut client = client(server.url()).await;
    for (status, code) in [
        (429, Code::ResourceExhausted),
        (401, Code::Unauthenticated),
        (403, Code::PermissionDenied),
        (404, Code::Unimplemented),
        (500, Code::Internal),
        (504, Code::Unavailable),
    ] {
        server.misbehave(Misbehave::status(status).on_path(EXPORT));
        let answer = export(&mut client, logs(&["x"]), &[]).await.unwrap_err();
        assert_eq!(answer.code(), code, "{status}: {answer:?}");
        assert!(answer.get_details_retry_info().is_none());
    }
    // Dropped: the call fails, nothing is stored, the next call works.
    server.misbehave(Misbehave::close());
    assert!(export(&mut client, logs(&["x"]), &[]).await.is_err());
    assert!(server.otlp_requests().is_empty());
    server.misbehave(Misbehave::delay(Duration::from_millis(200)));
    let started = std::time::Instant::now();
    export(&mut client, logs(&["late"]), &[]).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(server.otlp_requests(), vec![logs(&["late"])]);
}

#[tokio::test]
async fn a_message_over_the_body_limit_is_resource_exhausted() {
    let server = otlp_server(ServerConfig::new(KEY).max_body_bytes(4096));
    let big = logs(&[&"x".repeat(5000)]);
    let mut plain = client(server.url()).await;
    let status = export(&mut plain, big.clone(), &[]).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    // Small on the wire, too large once decoded.
    let mut gzip = client(server.url())
        .await
        .send_compressed(CompressionEncoding::Gzip);
    let status = export(&mut gzip, big, &[]).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(server.otlp_requests().is_empty());
    export(&mut plain, logs(&["small"]), &[]).await.unwrap();
}

#[tokio::test]
async fn an_idempotency_key_is_stored_once() {
    let server = otlp_server(ServerConfig::new(KEY));
    let mut client = client(server.url()).await;
    for _ in 0..2 {
        let answer = export(&mut client, logs(&["once"]), &[("idempotency-key", "k-1")])
            .await
            .unwrap();
        assert_eq!(answer.partial_success, None);
    }
    export(&mut client, logs(&["other"]), &[("idempotency-key", "k-2")])
        .await
        .unwrap();
    assert_eq!(
        server.otlp_requests(),
        vec![logs(&["once"]), logs(&["other"])]
    );
    let summary = server.summary();
    assert_eq!((summary.batches, summary.duplicate_batches), (2, 1));
    assert_eq!(server.requests()[0].idempotency_key.as_deref(), Some("k-1"));
}

#[tokio::test]
async fn an_unknown_method_is_unimplemented() {
    let server = otlp_server(ServerConfig::new(KEY));
    let channel = Channel::from_shared(server.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let codec =
        tonic_prost::ProstCodec::<ExportLogsServiceRequest, ExportLogsServiceResponse>::default();
    let path = tonic::codegen::http::uri::PathAndQuery::from_static(
        "/opentelemetry.proto.collector.logs.v1.LogsService/Import",
    );
    let status = grpc
        .unary(tonic::Request::new(logs(&["x"])), path, codec)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented, "{status:?}");
    assert!(server.otlp_requests().is_empty());
}

/// One HTTP/1.1 POST; the answer's head (lowercase) and body.
fn raw_call(
    addr: SocketAddr,
    path: &str,
    content_type: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (String, Vec<u8>) {
    let mut all = vec![("Content-Type", content_type)];
    all.extend_from_slice(headers);
    let answer = common::exchange(addr, "POST", path, &all, body);
    let end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    let head = String::from_utf8_lossy(&answer[..end]).to_ascii_lowercase();
    (head, answer[end + 4..].to_vec())
}

/// A Trailers-Only answer's code, after checking its shape.
fn trailers_only_code(head: &str) -> u32 {
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(
        head.contains("content-type: application/grpc\r\n"),
        "{head}"
    );
    head.lines()
        .find_map(|l| l.strip_prefix("grpc-status: "))
        .and_then(|c| c.trim().parse().ok())
        .unwrap_or_else(|| panic!("no grpc-status in {head}"))
}

#[test]
fn what_the_client_would_not_send_is_refused_in_grpc_terms() {
    let server = otlp_server(ServerConfig::new(KEY));
    let message = logs(&["x"]).encode_to_vec();
    let framed = |flag: u8, message: &[u8]| {
        let mut out = vec![flag];
        out.extend((message.len() as u32).to_be_bytes());
        out.extend(message);
        out
    };
    let grpc = "application/grpc";
    let br: &[(&str, &str)] = &[("grpc-encoding", "br")];
    // Content type, headers, body, the code answered.
    let cases = [
        // A frame shorter than its prefix says, or a prefix cut short.
        (grpc, &[][..], framed(0, &message)[..9].to_vec(), 3),
        (grpc, &[], vec![0, 0, 0], 3),
        // Two messages in a unary call.
        (
            grpc,
            &[],
            [framed(0, &message), framed(0, &message)].concat(),
            3,
        ),
        // Not protobuf.
        (grpc, &[], framed(0, &[0xff; 7]), 3),
        // Compressed, but by no encoding, or by one the server does not know.
        (grpc, &[], framed(1, &message), 12),
        ("application/grpc+proto", br, framed(1, &message), 12),
        // Not gRPC on the gRPC path.
        ("application/x-protobuf", &[], message.clone(), 12),
    ];
    for (content_type, headers, body, code) in cases {
        let (head, rest) = raw_call(server.addr(), EXPORT, content_type, headers, &body);
        assert_eq!(
            trailers_only_code(&head),
            code,
            "{content_type} {headers:?}: {head}"
        );
        assert!(head.contains("grpc-message: "), "{head}");
        assert!(rest.is_empty() || rest == b"0\r\n\r\n", "{rest:?}");
    }
    // gRPC to a path that is no gRPC method.
    let (head, _) = raw_call(server.addr(), "/v1/logs", grpc, &[], &framed(0, &message));
    assert_eq!(trailers_only_code(&head), 12);
    // A message with its prefix, as it should be: the answer's message
    // then its grpc-status trailer (sent, over HTTP/1.1, only to a client
    // that says it takes trailers).
    let (head, body) = raw_call(
        server.addr(),
        EXPORT,
        grpc,
        &[("TE", "trailers")],
        &framed(0, &message),
    );
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(!head.contains("grpc-status:"), "{head}");
    assert!(head.contains("trailer: grpc-status\r\n"), "{head}");
    let body = String::from_utf8_lossy(&body).to_ascii_lowercase();
    assert!(body.starts_with("5\r\n\0\0\0\0\0\r\n"), "{body:?}");
    assert!(body.contains("grpc-status: 0\r\n"), "{body:?}");
    assert_eq!(server.otlp_requests(), vec![logs(&["x"])]);
    assert_eq!(server.summary().rejected, 8);
}

#[tokio::test]
async fn https_offers_h2_by_alpn_to_the_grpc_client() {
    let server = otlp_server(ServerConfig::new(KEY).tls(TlsIdentity::generate().unwrap()));
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(server.ca_pem().unwrap()))
        .domain_name("localhost");
    let channel = Channel::from_shared(server.url())
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .expect("TLS with h2 by ALPN");
    let mut client = LogsServiceClient::new(channel).send_compressed(CompressionEncoding::Gzip);
    export(&mut client, logs(&["over https"]), &[("x-api-key", KEY)])
        .await
        .unwrap();
    assert_eq!(server.otlp_requests(), vec![logs(&["over https"])]);
    assert_eq!(server.requests()[0].version, "HTTP/2.0");
}

#[test]
fn the_command_s_otlp_receiver_takes_grpc_on_its_port() {
    let server = common::start(&["--listen", "127.0.0.1:0", "--otlp-listen", "127.0.0.1:0"]);
    assert_eq!(
        server.env_line("OTEL_EXPORTER_OTLP_PROTOCOL").as_deref(),
        Some("grpc")
    );
    let endpoint = server
        .env_line("OTEL_EXPORTER_OTLP_ENDPOINT")
        .expect("an endpoint line");
    assert!(
        server
            .banner
            .iter()
            .any(|l| l.starts_with("OTLP/gRPC logs receiver: ") && l.contains(&endpoint)),
        "{:?}",
        server.banner
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut client = client(endpoint.clone()).await;
        export(&mut client, logs(&["from a grpc exporter"]), &[])
            .await
            .unwrap();
    });
    let addr = endpoint.trim_start_matches("http://").parse().unwrap();
    let stats = common::get_json(addr, "/api/stats");
    assert_eq!(stats["summary"]["records"], 1, "{stats}");
    assert_eq!(stats["summary"]["batches"], 1, "{stats}");
}
