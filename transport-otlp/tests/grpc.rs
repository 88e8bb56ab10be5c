//! OTLP/gRPC against a real gRPC server on 127.0.0.1, built from the
//! official service definition (opentelemetry-proto's generated tonic
//! `LogsService`), its failures given as tonic's statuses (RetryInfo by
//! tonic-types): the records and their fields, gzip inside gRPC's framing,
//! the failure classification the OTLP specification gives gRPC codes,
//! partial success, the key kept out of every error; and TLS (ALPN h2)
//! against the ingest server's gRPC receiver.

mod common;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{body, client_at, fast_retry, HANG, KEY};
use futures::executor::block_on;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use timber_core::transport::{ApiKey, Endpoint, FailureKind, Transport};
use timber_core::{Level, LogRecord};
use timber_transport_hyper::HttpClient;
use timber_transport_otlp::{Encoding, OtlpTransport, OtlpTransportBuilder, PartialSuccess};
use tonic::codec::CompressionEncoding;
use tonic::metadata::MetadataMap;
use tonic::{Code, Request, Response, Status};
use tonic_types::{ErrorDetails, StatusExt};

type Answer = Result<ExportLogsServiceResponse, Status>;

/// What the collector received (the calls it answered with success) and
/// the answers it gives next (success once they run out).
#[derive(Default)]
struct State {
    answers: Mutex<VecDeque<Answer>>,
    calls: Mutex<u32>,
    received: Mutex<Vec<(MetadataMap, ExportLogsServiceRequest)>>,
    refuse_containing: Option<&'static str>,
}

struct Collector(Arc<State>);

#[tonic::async_trait]
impl LogsService for Collector {
    async fn export(
        &self,
        request: Request<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        *self.0.calls.lock().unwrap() += 1;
        let (metadata, _, request) = request.into_parts();
        if let Some(marker) = self.0.refuse_containing {
            if bodies(std::slice::from_ref(&request))
                .iter()
                .any(|b| b.contains(marker))
            {
                return Err(Status::invalid_argument(format!("a body holds {marker:?}")));
            }
        }
        let answer = self.0.answers.lock().unwrap().pop_front();
        let response = answer.unwrap_or_else(|| Ok(ExportLogsServiceResponse::default()))?;
        self.0.received.lock().unwrap().push((metadata, request));
        Ok(Response::new(response))
    }
}

/// A gRPC collector on 127.0.0.1, served by tonic on its own runtime.
struct GrpcCollector {
    addr: SocketAddr,
    state: Arc<State>,
    _runtime: tokio::runtime::Runtime,
}

impl GrpcCollector {
    fn start(state: State) -> GrpcCollector {
        let state = Arc::new(state);
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let service = LogsServiceServer::new(Collector(state.clone()))
            .accept_compressed(CompressionEncoding::Gzip);
        runtime.spawn(
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
        );
        GrpcCollector {
            addr,
            state,
            _runtime: runtime,
        }
    }

    fn answering(answers: impl IntoIterator<Item = Answer>) -> GrpcCollector {
        let state = State {
            answers: Mutex::new(answers.into_iter().collect()),
            ..State::default()
        };
        GrpcCollector::start(state)
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn endpoint(&self) -> Endpoint {
        Endpoint {
            base_url: self.url(),
            api_key: ApiKey::new(KEY),
        }
    }

    fn calls(&self) -> u32 {
        *self.state.calls.lock().unwrap()
    }

    fn requests(&self) -> Vec<ExportLogsServiceRequest> {
        let received = self.state.received.lock().unwrap();
        received.iter().map(|(_, r)| r.clone()).collect()
    }

    fn metadata(&self) -> Vec<MetadataMap> {
        let received = self.state.received.lock().unwrap();
        received.iter().map(|(m, _)| m.clone()).collect()
    }
}

fn bodies(requests: &[ExportLogsServiceRequest]) -> Vec<String> {
    requests
        .iter()
        .flat_map(|r| &r.resource_logs)
        .flat_map(|r| &r.scope_logs)
        .flat_map(|s| &s.log_records)
        .map(|r| body(r).to_owned())
        .collect()
}

fn grpc() -> OtlpTransportBuilder {
    OtlpTransport::builder()
        .http(HttpClient::builder().allow_http(true))
        .encoding(Encoding::Grpc)
}

fn batch(n: usize) -> timber_core::transport::Batch {
    let records: Vec<LogRecord> = (0..n)
        .map(|i| LogRecord::new(Level::ALL[i % 4], format!("record {i}")))
        .collect();
    common::batch(&records)
}

#[test]
fn records_arrive_over_grpc_with_their_fields_each_export_in_order() {
    let collector = GrpcCollector::answering([]);
    let transport = grpc().api_key_header("x-api-key").build().unwrap();
    let (client, errors) = client_at(collector.url(), transport, fast_retry(2));
    for i in 0..250 {
        client.info(format!("record {i}"), serde_json::json!({"i": i}), None);
    }
    client.warn("card declined", serde_json::json!({"attempt": 2}), None);
    client.disconnect().unwrap();
    assert!(errors.lock().unwrap().is_empty(), "{errors:?}");

    // Each export keeps its records' order; exports in flight at once
    // (several streams on the connection) may arrive in any order.
    let mut requests = collector.requests();
    let first = |r: &ExportLogsServiceRequest| {
        let body = bodies(std::slice::from_ref(r)).remove(0);
        body.strip_prefix("record ")
            .map_or(usize::MAX, |i| i.parse().unwrap())
    };
    requests.sort_by_key(first);
    let expected: Vec<String> = (0..250)
        .map(|i| format!("record {i}"))
        .chain(["card declined".to_owned()])
        .collect();
    assert_eq!(bodies(&requests), expected);
    let resource = requests[0].resource_logs[0].resource.as_ref().unwrap();
    assert!(resource.attributes.iter().any(|a| a.key == "service.name"));
    let last = requests.last().unwrap().resource_logs[0].scope_logs[0]
        .log_records
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (last.severity_number, last.severity_text.as_str()),
        (13, "WARN")
    );
    assert!(last.attributes.iter().any(|a| a.key == "attempt"));
    for metadata in collector.metadata() {
        assert_eq!(metadata.get("x-api-key").unwrap(), KEY);
        assert!(metadata.get("idempotency-key").is_some());
        assert!(metadata.get("grpc-encoding").is_none());
        assert!(metadata.get("grpc-timeout").is_some());
    }
}

#[test]
fn a_gzipped_message_is_flagged_inside_the_grpc_framing() {
    let collector = GrpcCollector::answering([]);
    let transport = OtlpTransport::builder()
        .http(HttpClient::builder().allow_http(true).gzip_min_bytes(0))
        .encoding(Encoding::Grpc)
        .build()
        .unwrap();
    block_on(transport.send_batch(&collector.endpoint(), &batch(50))).unwrap();
    assert_eq!(bodies(&collector.requests()).len(), 50);
    assert_eq!(
        collector.metadata()[0].get("grpc-encoding").unwrap(),
        "gzip"
    );
}

#[test]
fn codes_classify_as_the_otlp_specification_says_for_grpc() {
    let retry_info = |code, delay| {
        Status::with_error_details(
            code,
            "slow down",
            ErrorDetails::with_retry_info(Some(delay)),
        )
    };
    let collector = GrpcCollector::answering([
        Err(Status::unavailable("down for a moment")),
        Err(retry_info(
            Code::ResourceExhausted,
            Duration::from_millis(1500),
        )),
        Err(Status::resource_exhausted("quota")),
        Err(Status::invalid_argument("bad data")),
        Err(Status::unauthenticated("who are you")),
        Err(Status::unimplemented("no logs here")),
        Err(Status::internal("oops")),
        Err(Status::deadline_exceeded("late")),
    ]);
    let transport = grpc().build().unwrap();
    let send = || block_on(transport.send_batch(&collector.endpoint(), &batch(2))).unwrap_err();

    let e = send();
    assert_eq!((e.kind(), e.retry_after()), (FailureKind::Retry, None));
    assert_eq!(e.to_string(), "gRPC UNAVAILABLE (14): down for a moment");
    let e = send();
    assert_eq!(e.kind(), FailureKind::Retry);
    assert_eq!(e.retry_after(), Some(Duration::from_millis(1500)));
    let e = send();
    assert_eq!(e.kind(), FailureKind::Permanent, "{e}");
    assert!(e.to_string().contains("RESOURCE_EXHAUSTED"), "{e}");
    assert_eq!(send().kind(), FailureKind::Refused);
    let e = send();
    assert_eq!(e.kind(), FailureKind::Permanent);
    assert!(e.to_string().contains("check the credentials"), "{e}");
    assert_eq!(send().kind(), FailureKind::Permanent);
    assert_eq!(send().kind(), FailureKind::Permanent);
    assert_eq!(send().kind(), FailureKind::Retry);
    block_on(transport.send_batch(&collector.endpoint(), &batch(2))).unwrap();
    assert_eq!(collector.calls(), 9);
    assert_eq!(bodies(&collector.requests()).len(), 2);
}

#[test]
fn a_client_retries_an_unavailable_collector_and_delivers_once() {
    let collector = GrpcCollector::answering([
        Err(Status::unavailable("starting")),
        Err(Status::with_error_details(
            Code::ResourceExhausted,
            "slow down",
            ErrorDetails::with_retry_info(Some(Duration::from_millis(20))),
        )),
    ]);
    let (client, errors) = client_at(collector.url(), grpc().build().unwrap(), fast_retry(3));
    for i in 0..40 {
        client.info(format!("record {i}"), (), None);
    }
    assert!(client.flush_timeout(HANG).is_ok());
    let expected: Vec<String> = (0..40).map(|i| format!("record {i}")).collect();
    assert_eq!(bodies(&collector.requests()), expected);
    assert_eq!(collector.calls(), 3);
    let stats = client.stats();
    assert_eq!((stats.sent, stats.lost), (40, 0), "{stats:?}");
    assert!(errors.lock().unwrap().is_empty());
}

#[test]
fn invalid_argument_isolates_the_bad_records_and_gives_up_only_them() {
    let collector = GrpcCollector::start(State {
        refuse_containing: Some("poison"),
        ..State::default()
    });
    let (client, errors) = client_at(collector.url(), grpc().build().unwrap(), fast_retry(2));
    common::log_with_one_poison_pill(&client);
    common::assert_only_the_pill_given_up(bodies(&collector.requests()), &client);
    let errors = errors.lock().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e.to_string().contains("INVALID_ARGUMENT")),
        "{errors:?}"
    );
}

#[test]
fn a_partial_success_is_reported_and_not_resent() {
    let collector = GrpcCollector::answering([Ok(ExportLogsServiceResponse {
        partial_success: Some(ExportLogsPartialSuccess {
            rejected_log_records: 2,
            error_message: "two were too old".to_owned(),
        }),
    })]);
    let seen = Arc::new(Mutex::new(Vec::<PartialSuccess>::new()));
    let sink = seen.clone();
    let transport = grpc()
        .on_partial_success(move |p| sink.lock().unwrap().push(p.clone()))
        .build()
        .unwrap();
    block_on(transport.send_batch(&collector.endpoint(), &batch(5))).unwrap();
    assert_eq!(transport.rejected_records(), 2);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (seen[0].rejected, seen[0].message.as_str()),
        (2, "two were too old")
    );
    assert_eq!(collector.calls(), 1);
}

#[test]
fn no_error_quotes_the_key_a_collector_echoes() {
    let echo = format!("bad key {KEY}, and {}", &KEY[3..]);
    let collector = GrpcCollector::answering([Err(Status::unauthenticated(echo))]);
    let transport = grpc().api_key_header("x-api-key").build().unwrap();
    let e = block_on(transport.send_batch(&collector.endpoint(), &batch(1))).unwrap_err();
    let secret = &KEY[8..20];
    assert!(!e.to_string().contains(secret), "{e}");
    assert!(!format!("{e:?}").contains(secret), "{e:?}");
}

#[test]
fn grpc_needs_an_http2_only_client_and_http2_is_what_it_speaks() {
    let plain = HttpClient::builder().allow_http(true).build().unwrap();
    let err = OtlpTransport::builder()
        .client(plain)
        .encoding(Encoding::Grpc)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("http2_only"), "{err}");
    let h2 = HttpClient::builder()
        .allow_http(true)
        .http2_only(true)
        .build()
        .unwrap();
    assert!(h2.is_http2_only());
    let transport = OtlpTransport::builder()
        .client(h2)
        .encoding(Encoding::Grpc)
        .build()
        .unwrap();
    let collector = GrpcCollector::answering([]);
    block_on(transport.send_batch(&collector.endpoint(), &batch(3))).unwrap();
    assert_eq!(bodies(&collector.requests()).len(), 3);
}

#[test]
fn an_unreachable_collector_is_retryable() {
    let collector = GrpcCollector::answering([]);
    let endpoint = collector.endpoint();
    drop(collector);
    let transport = grpc().build().unwrap();
    let e = block_on(transport.send_batch(&endpoint, &batch(1))).unwrap_err();
    assert_eq!(e.kind(), FailureKind::Retry, "{e}");
}

#[test]
fn over_tls_grpc_goes_by_alpn_h2_to_a_verified_server() {
    let server = common::https_receiver();
    let transport = common::builder_for(&server)
        .encoding(Encoding::Grpc)
        .build()
        .unwrap();
    let endpoint = common::endpoint(&server);
    block_on(transport.send_batch(&endpoint, &batch(20))).unwrap();
    assert_eq!(common::otlp_records(&server).len(), 20);
    let request = &server.requests()[0];
    assert_eq!(request.content_type.as_deref(), Some("application/grpc"));

    // The ingest server's answer to a fault: UNAVAILABLE with a RetryInfo.
    server.misbehave(timber_ingest_server::Misbehave::status(503).retry_after("3"));
    let e = block_on(transport.send_batch(&endpoint, &batch(1))).unwrap_err();
    assert_eq!(e.kind(), FailureKind::Retry, "{e}");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));

    let untrusted = OtlpTransport::builder()
        .http(HttpClient::builder().webpki_roots(true))
        .encoding(Encoding::Grpc)
        .build()
        .unwrap();
    let e = block_on(untrusted.send_batch(&endpoint, &batch(1))).unwrap_err();
    assert_eq!(e.kind(), FailureKind::Permanent, "{e}");
}
