//! What a client built with every default does with a burst: 200,000
//! `info(format!("message {i}"))` calls from one thread, then `flush()`,
//! delivered to the local ingest server on loopback.
//!
//! Groups:
//! - `defaults_burst_200k`: the whole burst, until the server has every
//!   record, over HTTPS (`https`), with a spool's journal (`https_spool`),
//!   and plain HTTP (`http`); `before_https` is
//!   the same burst with the defaults of the previous release (batches of
//!   10, one in flight, drop the newest at the queue bound), which drops
//!   most of it; the baseline serializes the same records in memory.
//! - `defaults_burst_call_time`: percentiles of one log call's time during
//!   the HTTPS burst (each id's "time" is that percentile, not a mean: an
//!   iteration waits that long); `baseline_defaults_burst_call_time` has
//!   the same percentiles of pushing the same strings into a
//!   `std::sync::mpsc` channel.
//! - `in_flight_20ms`: a 20,000-record burst to a server that takes 20 ms
//!   to answer each request (a service across a network), by
//!   `max_in_flight`: what several batches on the wire buy.
//!
//! Dropped records and call-time figures are printed; a burst at the
//! defaults must drop nothing.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use timber_core::transport::{Batch, Resource};
use timber_core::{Client, ClientBuilder, Environment, Level, LogRecord, OverflowPolicy, Record};
use timber_ingest_server::{IngestServer, Misbehave, ServerConfig, TlsIdentity};
use timber_transport_hyper::{logs_body, HyperTransport};

const KEY: &str = "tb_test_bench";
const BURST: usize = 200_000;

fn server(tls: bool) -> IngestServer {
    let mut config = ServerConfig::new(KEY)
        .keep_records(0)
        .worker_threads(2)
        .idempotency_window(0);
    if tls {
        config = config.tls(TlsIdentity::generate().expect("certificate"));
    }
    IngestServer::start(config).expect("server")
}

/// A client with every default but what must be given.
fn defaults(server: &IngestServer) -> ClientBuilder {
    let mut transport = HyperTransport::builder().allow_http(true);
    if let Some(ca) = server.ca_pem() {
        transport = transport.add_root_certificate_pem(ca);
    }
    let transport = transport.build().expect("transport");
    Client::builder()
        .source("bench-burst")
        .api_key(KEY)
        .base_url(server.url())
        .on_error(|_| ())
        .transport(transport)
}

/// One burst and its flush; returns its time and each call's time in ns.
fn burst(client: &Client, n: usize, call_ns: &mut Vec<u32>) -> Duration {
    let start = Instant::now();
    for i in 0..n {
        let t = Instant::now();
        client.info(format!("message {i}"), (), None);
        call_ns.push(t.elapsed().as_nanos().min(u32::MAX as u128) as u32);
    }
    // A failed flush (nothing here fails) would show as records not sent.
    let _ = client.flush();
    start.elapsed()
}

fn percentile(sorted: &[u32], q: f64) -> Duration {
    let i = ((sorted.len() as f64 * q) as usize).min(sorted.len().saturating_sub(1));
    Duration::from_nanos(sorted.get(i).copied().unwrap_or(0).into())
}

fn bursts(c: &mut Criterion) {
    let https = server(true);
    let http = server(false);

    let mut group = c.benchmark_group("defaults_burst_200k");
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    group.throughput(Throughput::Elements(BURST as u64));
    let records: Vec<LogRecord> = (0..BURST)
        .map(|i| LogRecord {
            source: Some("bench-burst".into()),
            timestamp: Some(timber_core::now_millis()),
            ..LogRecord::new(Level::Info, format!("message {i}"))
        })
        .collect();
    let resource = Resource::new("bench-burst", Environment::Production, None);
    let batch = Batch::new(resource, records.into_iter().map(Record::from).collect());
    group.bench_function("baseline_serialize_in_memory", |b| {
        b.iter(|| logs_body(&batch))
    });

    let mut https_calls = Vec::with_capacity(BURST * 20);
    let before = |server: &IngestServer| {
        defaults(server)
            .max_batch_records(10)
            .max_in_flight(1)
            .overflow(OverflowPolicy::DropNewest)
    };
    // With a spool, every record is also written ahead into its journal.
    let spool = tempfile::tempdir().expect("spool directory");
    for (id, server, builder) in [
        ("https", &https, defaults(&https)),
        ("https_spool", &https, defaults(&https).spool(spool.path())),
        ("http", &http, defaults(&http)),
        ("before_https", &https, before(&https)),
    ] {
        let client = builder.build().expect("client");
        let mut calls = Vec::with_capacity(BURST * 20);
        let mut bursts = 0u64;
        group.bench_function(id, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += burst(&client, BURST, &mut calls);
                    bursts += 1;
                }
                total
            })
        });
        let stats = client.stats();
        if bursts == 0 {
            continue; // filtered out
        }
        calls.sort_unstable();
        eprintln!(
            "{id}: {bursts} bursts of {BURST}: {} delivered, {} dropped ({:.1}% of each burst); \
             call time p50 {:?}, p99 {:?}, p99.9 {:?}, max {:?}; server has {} records",
            stats.sent,
            stats.dropped,
            100.0 * stats.dropped as f64 / stats.accepted.max(1) as f64,
            percentile(&calls, 0.5),
            percentile(&calls, 0.99),
            percentile(&calls, 0.999),
            percentile(&calls, 1.0),
            server.summary().records,
        );
        if id != "before_https" {
            assert_eq!(stats.dropped, 0, "the defaults dropped records: {stats:?}");
            assert_eq!(stats.sent, stats.accepted, "{stats:?}");
        }
        if id == "https" {
            https_calls = calls;
        }
    }
    group.finish();

    // Call-time percentiles of the HTTPS burst, beside a std channel's.
    if https_calls.is_empty() {
        return;
    }
    let (tx, rx) = mpsc::channel::<String>();
    let drain = std::thread::spawn(move || rx.into_iter().count());
    let mut channel_calls = Vec::with_capacity(BURST);
    for i in 0..BURST {
        let t = Instant::now();
        let _ = tx.send(format!("message {i}"));
        channel_calls.push(t.elapsed().as_nanos().min(u32::MAX as u128) as u32);
    }
    drop(tx);
    let _ = drain.join();
    channel_calls.sort_unstable();
    // Each iteration takes the percentile's time for real (criterion's
    // warm-up sizes the samples by the time that passes).
    let report = |sorted: &[u32], q: f64| {
        let at = percentile(sorted, q).as_nanos() as u64;
        move |iters: u64| {
            let took = Duration::from_nanos(at.saturating_mul(iters));
            let start = Instant::now();
            while start.elapsed() < took {
                std::hint::spin_loop();
            }
            took
        }
    };
    // The channel's percentiles in a `baseline…` group with the same ids:
    // each row is compared with the same percentile of the baseline.
    for (name, sorted) in [
        ("baseline_defaults_burst_call_time", &channel_calls),
        ("defaults_burst_call_time", &https_calls),
    ] {
        let mut group = c.benchmark_group(name);
        group.sample_size(10);
        for (id, q) in [("p50", 0.5), ("p99", 0.99), ("p99_9", 0.999)] {
            let at = report(sorted, q);
            group.bench_function(id, |b| b.iter_custom(at));
        }
        group.finish();
    }
}

fn in_flight(c: &mut Criterion) {
    const N: usize = 20_000;
    let server = server(true);
    server.misbehave(Misbehave::delay(Duration::from_millis(20)).times(u32::MAX));
    let mut group = c.benchmark_group("in_flight_20ms");
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    group.throughput(Throughput::Elements(N as u64));
    for in_flight in [1, 2, 4, 8] {
        let client = defaults(&server)
            .max_in_flight(in_flight)
            .build()
            .expect("client");
        let id = match in_flight {
            1 => "baseline_one".to_owned(),
            n => n.to_string(),
        };
        let mut calls = Vec::new();
        group.bench_function(BenchmarkId::from_parameter(id), |b| {
            b.iter_custom(|iters| (0..iters).map(|_| burst(&client, N, &mut calls)).sum())
        });
        let stats = client.stats();
        eprintln!(
            "in flight {in_flight}, 20 ms per request: {} delivered, {} dropped",
            stats.sent, stats.dropped
        );
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = bursts, in_flight
}
criterion_main!(benches);
