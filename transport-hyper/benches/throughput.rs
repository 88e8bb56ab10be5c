//! End-to-end throughput over loopback HTTPS against the local ingest
//! server, next to the same run's baseline: serializing the same records to
//! JSON in memory.
//!
//! `CARGO_TARGET_DIR=... cargo bench -p timber-transport-hyper`

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use serde_json::json;
use timber_core::{
    logs_body, ApiKey, Batch, Client, Endpoint, Environment, Level, LogOptions, LogRecord,
    Transport,
};
use timber_ingest_server::{IngestServer, ServerConfig, TlsIdentity};
use timber_transport_hyper::HyperTransport;

const KEY: &str = "tb_test_bench";
const SIZES: [usize; 3] = [10, 100, 1_000];

/// A typical record: an HTTP access log with data, a tag and ids.
fn records(n: usize) -> Vec<LogRecord> {
    let source: Arc<str> = "bench-api".into();
    let version: Arc<str> = "1.4.2".into();
    let user: Arc<str> = "user-4242".into();
    (0..n)
        .map(|i| LogRecord {
            source: Some(source.clone()),
            environment: Some(Environment::Production),
            version: Some(version.clone()),
            user_id: Some(user.clone()),
            data: json!({"route": "/api/items", "status": 200, "ms": i % 50})
                .as_object()
                .cloned(),
            tags: vec!["http".into()],
            timestamp: Some(1_700_000_000_000 + i as i64),
            ..LogRecord::new(Level::Info, format!("request {i} completed"))
        })
        .collect()
}

fn server() -> IngestServer {
    let config = ServerConfig::new(KEY)
        .tls(TlsIdentity::generate().expect("certificate"))
        .keep_records(0)
        // Benches resend the same batch: store it every time.
        .idempotency_window(0);
    IngestServer::start(config).expect("server")
}

fn transport(server: &IngestServer) -> HyperTransport {
    HyperTransport::builder()
        .add_root_certificate_pem(server.ca_pem().unwrap_or_default())
        .build()
        .expect("transport")
}

fn bench(c: &mut Criterion) {
    let server = server();
    let transport = transport(&server);
    let endpoint = Endpoint {
        base_url: server.url(),
        api_key: ApiKey::new(KEY),
    };

    for n in SIZES {
        let body = logs_body(&records(n));
        eprintln!(
            "batch {n}: {} bytes on the wire, {:.1} bytes per log",
            body.len(),
            body.len() as f64 / n as f64
        );
    }

    let mut group = c.benchmark_group("serialize_in_memory");
    for n in SIZES {
        let batch = records(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &batch, |b, batch| {
            b.iter(|| logs_body(batch))
        });
    }
    group.finish();

    // What the server does with each batch body: parse it and check the limits.
    let mut group = c.benchmark_group("parse_and_validate_in_memory");
    for n in SIZES {
        #[derive(serde::Deserialize)]
        struct Body {
            logs: Vec<LogRecord>,
        }
        let body = logs_body(&records(n));
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &body, |b, body| {
            b.iter(|| {
                let parsed: Body = serde_json::from_slice(body).expect("valid JSON");
                parsed.logs.iter().all(|r| timber_core::validate(r).is_ok())
            })
        });
    }
    group.finish();

    // One batch at a time, as the client's worker sends (serialization included).
    let mut group = c.benchmark_group("transport_https_send_batch");
    for n in SIZES {
        let batch = Batch::new(records(n));
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &batch, |b, batch| {
            b.iter(|| {
                futures::executor::block_on(transport.send_batch(&endpoint, batch))
                    .expect("delivered")
            })
        });
    }
    group.finish();

    // The whole client: log calls on this thread, delivery by the worker.
    let mut group = c.benchmark_group("client_https_end_to_end");
    for n in SIZES {
        let client = Client::builder()
            .source("bench-api")
            .api_key(KEY)
            .base_url(server.url())
            .batch_size(n)
            .queue_capacity(200_000)
            .flush_interval(Duration::from_secs(60))
            .user_id("user-4242")
            .version("1.4.2")
            .transport(transport.clone())
            .build()
            .expect("client");
        let mut calls = Duration::ZERO;
        let mut logged = 0u64;
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                let mut queued = 0;
                for i in 0..iters as usize * n {
                    let t = Instant::now();
                    client.info(
                        "request completed",
                        json!({"route": "/api/items", "status": 200, "ms": i % 50}),
                        LogOptions::tags(["http"]),
                    );
                    calls += t.elapsed();
                    queued += 1;
                    if queued == 100_000 {
                        client.flush().expect("delivered");
                        queued = 0;
                    }
                }
                client.flush().expect("delivered");
                logged += iters * n as u64;
                start.elapsed()
            })
        });
        let stats = client.stats();
        assert_eq!(stats.sent, stats.accepted, "every record delivered");
        eprintln!(
            "client batch {n}: {logged} logs, caller time per log call {:.0} ns (never waits for the network)",
            calls.as_nanos() as f64 / logged.max(1) as f64
        );
    }
    group.finish();

    // What the transport and server sustain with several batches in flight.
    let mut group = c.benchmark_group("transport_https_4_in_flight");
    let n = 1_000;
    let batch = Arc::new(Batch::new(records(n)));
    group.throughput(Throughput::Elements(4 * n as u64));
    group.bench_function(BenchmarkId::from_parameter(n), |b| {
        b.iter(|| {
            let sends = (0..4).map(|_| transport.send_batch(&endpoint, &batch));
            for result in futures::executor::block_on(futures::future::join_all(sends)) {
                result.expect("delivered");
            }
        })
    });
    group.finish();

    let summary = server.summary();
    eprintln!(
        "server accepted {} records in {} batches",
        summary.records, summary.batches
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
