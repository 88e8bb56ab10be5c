//! Side by side with the OpenTelemetry Rust SDK's own path, to the same
//! loopback OTLP/HTTP receiver (the ingest server in OTLP mode, plain HTTP,
//! decoding every request with the official types), in one criterion run.
//!
//! - ours: `Client::info` (data and tags) through the client's queue and
//!   worker to `OtlpTransport` (protobuf, hyper), over OTLP/HTTP
//!   (`timber_otlp`) and over OTLP/gRPC (`timber_otlp_grpc`, the same
//!   receiver's gRPC endpoint);
//! - `baseline_opentelemetry_sdk`: the logs API (`Logger::emit` with the
//!   same body, severity, attributes and resource) through
//!   `opentelemetry_sdk`'s `BatchLogProcessor` to `opentelemetry-otlp`'s
//!   HTTP exporter (protobuf, its default blocking reqwest client without
//!   TLS).
//!
//! Both have a queue large enough for a burst (nothing dropped, nothing
//! blocked). Groups:
//! - `otlp_caller`: the time of a burst of `BURST` log calls, delivery
//!   running in the background (caller time per log = median / `BURST`);
//! - `otlp_delivered`: from the first call of a burst until the receiver
//!   holds every record of it (delivered logs/s = `BURST` / median);
//! - `otlp_sender_cpu`: the same, timed by the CPU time the senders'
//!   threads spent on it (every thread but the receiver's; CPU per
//!   delivered log = median / `BURST`).
//!
//! `cargo bench -p timber-transport-otlp --bench vs_opentelemetry`
//! (`cargo xtask bench` computes the ratios to the baselines).

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::KeyValue;
use opentelemetry_otlp::{LogExporter, Protocol, WithExportConfig};
use opentelemetry_sdk::logs::{
    BatchConfigBuilder, BatchLogProcessor, SdkLogger, SdkLoggerProvider,
};
use opentelemetry_sdk::Resource;
use serde::Serialize;
use timber_core::{Client, Environment, LogOptions};
use timber_ingest_server::{IngestServer, ServerConfig};
use timber_transport_hyper::HttpClient;
use timber_transport_otlp::{Encoding, OtlpTransport};

const KEY: &str = "tb_test_bench";
const BURST: usize = 50_000;
/// Room for a whole burst in either queue: nothing dropped, nothing blocked.
const QUEUE: usize = 4 * BURST;
const HANG: Duration = Duration::from_secs(60);

/// The producer's data: a tiny struct, as an application would log it.
#[derive(Serialize)]
struct Access {
    route: &'static str,
    status: u16,
    ms: u32,
}

fn receiver() -> IngestServer {
    IngestServer::start(
        ServerConfig::new(KEY)
            .otlp()
            .keep_records(0)
            .idempotency_window(0),
    )
    .expect("receiver")
}

fn ours(server: &IngestServer, encoding: Encoding) -> Client {
    let transport = OtlpTransport::builder()
        .http(HttpClient::builder().allow_http(true))
        .encoding(encoding)
        .build()
        .expect("transport");
    Client::builder()
        .source("bench-api")
        .api_key(KEY)
        .base_url(server.url())
        .environment(Environment::Production)
        .version("1.4.2")
        .user_id("user-4242")
        .queue_capacity(QUEUE)
        .on_error(|e| panic!("unexpected: {e}"))
        .transport(transport)
        .build()
        .expect("client")
}

fn theirs(server: &IngestServer) -> (SdkLoggerProvider, SdkLogger) {
    let exporter = LogExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(format!("{}/v1/logs", server.url()))
        .build()
        .expect("exporter");
    let processor = BatchLogProcessor::builder(exporter)
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_max_queue_size(QUEUE)
                .build(),
        )
        .build();
    let provider = SdkLoggerProvider::builder()
        .with_resource(
            Resource::builder_empty()
                .with_attributes([
                    KeyValue::new("service.name", "bench-api"),
                    KeyValue::new("deployment.environment.name", "production"),
                    KeyValue::new("service.version", "1.4.2"),
                ])
                .build(),
        )
        .with_log_processor(processor)
        .build();
    let logger = provider.logger("bench");
    (provider, logger)
}

fn log_ours(client: &Client, i: usize) {
    let access = Access {
        route: "/api/items",
        status: 200,
        ms: (i % 50) as u32,
    };
    client.info("request completed", access, LogOptions::tags(["http"]));
}

/// The same record through the OpenTelemetry logs API.
fn log_theirs(logger: &SdkLogger, i: usize) {
    let mut record = logger.create_log_record();
    record.set_timestamp(SystemTime::now());
    record.set_severity_number(Severity::Info);
    record.set_severity_text("INFO");
    record.set_body(AnyValue::from("request completed"));
    record.add_attribute("route", "/api/items");
    record.add_attribute("status", 200_i64);
    record.add_attribute("ms", (i % 50) as i64);
    record.add_attribute(
        "timber.tags",
        AnyValue::ListAny(Box::new(vec!["http".into()])),
    );
    record.add_attribute("enduser.id", "user-4242");
    logger.emit(record);
}

/// A sender under test: log one, deliver everything logged.
trait Sender {
    fn log(&self, i: usize);
    fn deliver(&self);
}

impl Sender for Client {
    fn log(&self, i: usize) {
        log_ours(self, i);
    }
    fn deliver(&self) {
        self.flush().expect("delivered");
    }
}

impl Sender for (SdkLoggerProvider, SdkLogger) {
    fn log(&self, i: usize) {
        log_theirs(&self.1, i);
    }
    fn deliver(&self) {
        self.0.force_flush().expect("delivered");
    }
}

/// Where a thread's time went, from `/proc/thread-self/schedstat`: on a
/// core, and runnable but waiting for one (zero where unavailable).
#[derive(Default)]
struct Schedstat {
    running_ns: u64,
    waiting_ns: u64,
}

impl Schedstat {
    fn of_this_thread() -> Schedstat {
        let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
        let mut fields = text.split_whitespace().map(|f| f.parse().unwrap_or(0));
        Schedstat {
            running_ns: fields.next().unwrap_or(0),
            waiting_ns: fields.next().unwrap_or(0),
        }
    }

    /// Adds what this thread spent since `before`.
    fn add_since(&mut self, before: &Schedstat) {
        let now = Schedstat::of_this_thread();
        self.running_ns += now.running_ns.saturating_sub(before.running_ns);
        self.waiting_ns += now.waiting_ns.saturating_sub(before.waiting_ns);
    }
}

/// CPU nanoseconds of each of this process's threads so far, from
/// `/proc/self/task/*/schedstat`: thread id -> (name, ns). Empty where
/// unavailable.
fn cpu_by_thread() -> BTreeMap<u32, (String, u64)> {
    let mut threads = BTreeMap::new();
    let tasks = std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten();
    for entry in tasks {
        let read = |file| std::fs::read_to_string(entry.path().join(file)).unwrap_or_default();
        let ns = read("schedstat")
            .split_whitespace()
            .next()
            .and_then(|f| f.parse().ok())
            .unwrap_or(0);
        if let Some(tid) = entry.file_name().to_str().and_then(|t| t.parse().ok()) {
            threads.insert(tid, (read("comm").trim().to_owned(), ns));
        }
    }
    threads
}

/// Whether a thread is the receiver's (the ingest server's), not a sender's.
fn is_receiver(name: &str) -> bool {
    name.starts_with("timber-ingest")
}

/// CPU nanoseconds the senders' threads (every thread but the receiver's)
/// spent between two snapshots.
fn sender_cpu(before: &BTreeMap<u32, (String, u64)>, after: &BTreeMap<u32, (String, u64)>) -> u64 {
    after
        .iter()
        .filter(|(_, (name, _))| !is_receiver(name))
        .map(|(tid, (_, ns))| ns.saturating_sub(before.get(tid).map_or(0, |(_, t)| *t)))
        .sum()
}

/// CPU nanoseconds per log, by thread name, between two snapshots.
fn cpu_per_log(
    before: &BTreeMap<u32, (String, u64)>,
    after: &BTreeMap<u32, (String, u64)>,
    logs: u64,
) -> String {
    let mut by_name: BTreeMap<&str, u64> = BTreeMap::new();
    for (tid, (name, ns)) in after {
        let earlier = before.get(tid).map_or(0, |(_, t)| *t);
        *by_name.entry(name.as_str()).or_default() += ns.saturating_sub(earlier);
    }
    let per_log = |ns: u64| ns as f64 / logs.max(1) as f64;
    let mut out: Vec<String> = by_name
        .iter()
        .filter(|(_, ns)| **ns > 0)
        .map(|(name, ns)| format!("{name} {:.0}", per_log(*ns)))
        .collect();
    out.push(format!("total {:.0} ns", per_log(by_name.values().sum())));
    out.join(", ")
}

/// Waits until the receiver holds `total` records.
fn received(server: &IngestServer, total: u64) {
    assert!(
        server.wait_until(HANG, |s| s.records >= total),
        "the receiver has {} of {total} records",
        server.summary().records
    );
}

fn bench(c: &mut Criterion) {
    let server = receiver();
    let client = ours(&server, Encoding::Protobuf);
    let grpc = ours(&server, Encoding::Grpc);
    let otel = theirs(&server);
    let senders: [(&str, &dyn Sender); 3] = [
        ("timber_otlp", &client),
        ("timber_otlp_grpc", &grpc),
        ("baseline_opentelemetry_sdk", &otel),
    ];
    let mut expected = 0u64;

    let mut group = c.benchmark_group("otlp_caller");
    group.throughput(Throughput::Elements(BURST as u64));
    for (id, sender) in senders {
        let mut calls = Duration::ZERO;
        let mut bursts = 0u32;
        let mut scheduled = Schedstat::default();
        group.bench_function(BenchmarkId::new(id, BURST), |b| {
            b.iter_custom(|iters| {
                let mut measured = Duration::ZERO;
                for _ in 0..iters {
                    let before = Schedstat::of_this_thread();
                    let start = Instant::now();
                    for i in 0..BURST {
                        sender.log(i);
                    }
                    measured += start.elapsed();
                    scheduled.add_since(&before);
                    // Outside the measurement: deliver, so the next burst
                    // meets an empty queue.
                    sender.deliver();
                    expected += BURST as u64;
                    received(&server, expected);
                }
                calls += measured;
                bursts += iters as u32;
                measured
            })
        });
        let logs = f64::from(bursts.max(1)) * BURST as f64;
        eprintln!(
            "{id}: caller time per log {:.0} ns over {bursts} bursts of {BURST}: \
             on a core {:.0} ns, waiting for one {:.0} ns",
            calls.as_nanos() as f64 / logs,
            scheduled.running_ns as f64 / logs,
            scheduled.waiting_ns as f64 / logs,
        );
    }
    group.finish();

    let mut group = c.benchmark_group("otlp_delivered");
    group.throughput(Throughput::Elements(BURST as u64));
    for (id, sender) in senders {
        let cpu_before = cpu_by_thread();
        let mut logged = 0u64;
        group.bench_function(BenchmarkId::new(id, BURST), |b| {
            b.iter_custom(|iters| {
                logged += iters * BURST as u64;
                let start = Instant::now();
                for _ in 0..iters {
                    for i in 0..BURST {
                        sender.log(i);
                    }
                    sender.deliver();
                    expected += BURST as u64;
                    received(&server, expected);
                }
                start.elapsed()
            })
        });
        let cpu = cpu_per_log(&cpu_before, &cpu_by_thread(), logged);
        eprintln!("{id}: CPU per delivered log, by thread: {cpu}");
    }
    group.finish();

    // The same bursts, timed by the CPU the senders' threads spent (the
    // caller, the worker, the exporter's threads; not the receiver's):
    // the cost of getting a burst delivered, whatever the machine's load.
    let mut group = c.benchmark_group("otlp_sender_cpu");
    group.throughput(Throughput::Elements(BURST as u64));
    for (id, sender) in senders {
        group.bench_function(BenchmarkId::new(id, BURST), |b| {
            b.iter_custom(|iters| {
                let before = cpu_by_thread();
                for _ in 0..iters {
                    for i in 0..BURST {
                        sender.log(i);
                    }
                    sender.deliver();
                    expected += BURST as u64;
                    received(&server, expected);
                }
                Duration::from_nanos(sender_cpu(&before, &cpu_by_thread()))
            })
        });
    }
    group.finish();

    for client in [&client, &grpc] {
        let stats = client.stats();
        assert_eq!(stats.sent, stats.accepted, "{stats:?}");
        assert_eq!(stats.dropped + stats.lost, 0, "{stats:?}");
    }
    let stats = client.stats();
    let summary = server.summary();
    assert_eq!(summary.records, expected, "every record of both received");
    eprintln!(
        "receiver: {} records in {} requests; ours: {stats:?}",
        summary.records, summary.batches
    );
    let _ = otel.0.shutdown();
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
