//! End-to-end throughput over loopback HTTPS against the local ingest
//! server, next to the same run's baseline: serializing the same records to
//! JSON in memory.
//!
//! `CARGO_TARGET_DIR=... cargo bench -p timber-transport-hyper`
//!
//! Groups, cheapest first:
//! - `baseline_serialize_in_memory`: `{"logs":[...]}` of the records the client sends;
//! - `server_check_in_memory`: what the server does with such a body
//!   (`parse_and_validate_full` is the full `LogRecord` parse it falls back on);
//! - `transport_https_send_batch` (HTTP/2) and `transport_https1_send_batch`:
//!   one batch at a time, as the client's worker sends, the transport
//!   writing its body from the batch's records;
//! - `client_https_end_to_end`: a real `Client` fed by a producer thread,
//!   counting logs delivered to the server, at batch sizes 10, 100 and
//!   1,000 with the default window (4 in flight), and `1000_one_in_flight`;
//! - `transport_https_in_flight`: the transport alone, several batches at once.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use serde::Serialize;
use timber_core::transport::{ApiKey, Batch, Endpoint, Resource, Transport};
use timber_core::{Client, Environment, Level, LogOptions, LogRecord, Record};
use timber_ingest_server::{check_logs_body, IngestServer, ServerConfig, TlsIdentity};
use timber_transport_hyper::{logs_body, HyperTransport};

const KEY: &str = "tb_test_bench";
const SIZES: [usize; 3] = [10, 100, 1_000];

/// The producer's data: a tiny struct, as an application would log it.
#[derive(Serialize)]
struct Access {
    route: &'static str,
    status: u16,
    ms: u32,
}

fn access(i: usize) -> Access {
    Access {
        route: "/api/items",
        status: 200,
        ms: (i % 50) as u32,
    }
}

/// What the client sends for `client.info("request completed", access(i),
/// tags(["http"]))`: the same fields, stamped the same way.
fn batch(n: usize) -> Batch {
    let resource = Resource::new("bench-api", Environment::Production, Some("1.4.2".into()));
    Batch::new(resource, records(n).into_iter().map(Record::from).collect())
}

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
            data: serde_json::to_value(access(i))
                .ok()
                .and_then(|v| v.as_object().cloned()),
            tags: vec!["http".into()],
            timestamp: Some(timber_core::now_millis()),
            ..LogRecord::new(Level::Info, "request completed")
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

fn transport(server: &IngestServer, http2: bool) -> HyperTransport {
    HyperTransport::builder()
        .add_root_certificate_pem(server.ca_pem().unwrap_or_default())
        .http2(http2)
        .build()
        .expect("transport")
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split(' ').take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// CPU time (user + system, in clock ticks of 10 ms) of each of this
/// process's threads: thread id -> (name, ticks).
fn cpu_by_thread() -> BTreeMap<u32, (String, u64)> {
    let mut threads = BTreeMap::new();
    for entry in std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `tid (name) state ...`: the name may hold spaces, the fields after
        // it do not; utime and stime are the 12th and 13th after the name.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0)
        };
        if let Ok(tid) = stat[..open].trim().parse() {
            threads.insert(
                tid,
                (stat[open + 1..close].to_owned(), ticks(11) + ticks(12)),
            );
        }
    }
    threads
}

/// CPU nanoseconds per log, by thread name, between two snapshots.
fn cpu_per_log(
    before: &BTreeMap<u32, (String, u64)>,
    after: &BTreeMap<u32, (String, u64)>,
    logs: u64,
) -> String {
    let mut by_name: BTreeMap<&str, u64> = BTreeMap::new();
    for (tid, (name, ticks)) in after {
        let earlier = before.get(tid).map_or(0, |(_, t)| *t);
        *by_name.entry(name.as_str()).or_default() += ticks - earlier;
    }
    let per_log = |ticks: u64| ticks as f64 * 1e7 / logs.max(1) as f64;
    let total: u64 = by_name.values().sum();
    let mut out: Vec<String> = by_name
        .iter()
        .filter(|(_, t)| **t > 0)
        .map(|(name, t)| format!("{name} {:.0}", per_log(*t)))
        .collect();
    out.push(format!(
        "total {:.0} ns (so at most {:.0}k logs/s on 2 cores)",
        per_log(total),
        2e6 / per_log(total).max(1.0)
    ));
    out.join(", ")
}

fn bench(c: &mut Criterion) {
    let server = server();
    let h2 = transport(&server, true);
    let h1 = transport(&server, false);
    let endpoint = Endpoint {
        base_url: server.url(),
        api_key: ApiKey::new(KEY),
    };
    eprintln!("load average at start: {}", load());

    for n in SIZES {
        let body = logs_body(&batch(n));
        eprintln!(
            "batch {n}: {} bytes on the wire, {:.1} bytes per log",
            body.len(),
            body.len() as f64 / n as f64
        );
    }

    let mut group = c.benchmark_group("baseline_serialize_in_memory");
    for n in SIZES {
        let batch = batch(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &batch, |b, batch| {
            b.iter(|| logs_body(batch))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("server_check_in_memory");
    for n in SIZES {
        let body = logs_body(&batch(n));
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &body, |b, body| {
            b.iter(|| check_logs_body(body).expect("valid"))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("parse_and_validate_full");
    let n = 1_000;
    let body = logs_body(&batch(n));
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function(BenchmarkId::from_parameter(n), |b| {
        b.iter(|| {
            #[derive(serde::Deserialize)]
            struct Body {
                logs: Vec<LogRecord>,
            }
            let parsed: Body = serde_json::from_slice(&body).expect("valid JSON");
            parsed
                .logs
                .iter()
                .all(|r| timber_core::record::validate(r).is_ok())
        })
    });
    group.finish();

    for (name, transport) in [
        ("transport_https_send_batch", &h2),
        ("transport_https1_send_batch", &h1),
    ] {
        let mut group = c.benchmark_group(name);
        for n in SIZES {
            let batch = batch(n);
            group.throughput(Throughput::Elements(n as u64));
            group.bench_with_input(BenchmarkId::from_parameter(n), &batch, |b, batch| {
                b.iter(|| {
                    futures::executor::block_on(transport.send_batch(&endpoint, batch))
                        .expect("delivered")
                })
            });
        }
        group.finish();
    }
    eprintln!("load average: {}", load());

    // The whole client: a producer thread logs, the client's worker
    // delivers; the time runs until the server has every record.
    let mut group = c.benchmark_group("client_https_end_to_end");
    let runs = SIZES.iter().map(|n| (n.to_string(), *n, 4)).chain([(
        "1000_one_in_flight".to_owned(),
        1_000,
        1,
    )]);
    for (id, n, in_flight) in runs {
        let client = Client::builder()
            .source("bench-api")
            .api_key(KEY)
            .base_url(server.url())
            .environment(Environment::Production)
            .batch_size(n)
            .max_batch_records(n)
            .max_in_flight(in_flight)
            .queue_capacity(200_000)
            .flush_interval(Duration::from_secs(60))
            .user_id("user-4242")
            .version("1.4.2")
            .transport(h2.clone())
            .build()
            .expect("client");
        let mut calls = Duration::ZERO;
        let mut slowest = Duration::ZERO;
        let mut logged = 0u64;
        let cpu_before = cpu_by_thread();
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(BenchmarkId::from_parameter(&id), |b| {
            b.iter_custom(|iters| {
                let total = iters as usize * n;
                let start = Instant::now();
                for i in 0..total {
                    let t = Instant::now();
                    client.info("request completed", access(i), LogOptions::tags(["http"]));
                    let took = t.elapsed();
                    calls += took;
                    slowest = slowest.max(took);
                    // Bounds the queue; the worker has been sending all along.
                    if i % 100_000 == 99_999 {
                        client.flush().expect("delivered");
                    }
                }
                client.flush().expect("delivered");
                logged += total as u64;
                start.elapsed()
            })
        });
        let cpu = cpu_per_log(&cpu_before, &cpu_by_thread(), logged);
        let stats = client.stats();
        if logged == 0 {
            continue; // filtered out
        }
        assert_eq!(stats.sent, stats.accepted, "every record delivered");
        assert_eq!(stats.dropped, 0, "no record dropped");
        eprintln!(
            "client {id}: {logged} logs, caller time per log call {:.0} ns (slowest {:?}), load {}",
            calls.as_nanos() as f64 / logged.max(1) as f64,
            slowest,
            load()
        );
        eprintln!("client {id}: CPU per delivered log, by thread: {cpu}");
    }
    group.finish();

    // What the transport and server sustain with several batches in flight.
    let mut group = c.benchmark_group("transport_https_in_flight");
    let n = 1_000;
    let batch = Arc::new(batch(n));
    for in_flight in [2, 4] {
        group.throughput(Throughput::Elements((in_flight * n) as u64));
        group.bench_function(BenchmarkId::new(n.to_string(), in_flight), |b| {
            b.iter(|| {
                let sends = (0..in_flight).map(|_| h2.send_batch(&endpoint, &batch));
                for result in futures::executor::block_on(futures::future::join_all(sends)) {
                    result.expect("delivered");
                }
            })
        });
    }
    group.finish();

    let summary = server.summary();
    eprintln!(
        "server accepted {} records in {} batches over {} connections; load average at the end: {}",
        summary.records,
        summary.batches,
        summary.connections,
        load()
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
