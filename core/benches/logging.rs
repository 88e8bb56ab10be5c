//! Caller-side cost of logging while the worker runs, and the cost of
//! serializing a batch, each beside a baseline measured in the same run.

mod common;

use std::hint::black_box;
use std::sync::{mpsc, Arc};

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;
use timber_core::{now_millis, Client, Environment, Level, LogRecord};

fn client() -> Client {
    Client::builder()
        .source("bench")
        .api_key("tb_test_bench")
        .version("1.0.0")
        // A bound large enough that the producer never hits it: the bench
        // measures accepted records, not the (cheaper) drop path.
        .queue_capacity(50_000_000)
        .on_error(|e| panic!("unexpected: {e}"))
        .transport(common::Discard::default())
        .build()
        .unwrap()
}

fn caller(c: &mut Criterion) {
    let mut group = c.benchmark_group("core_caller");
    let source: Arc<str> = "bench".into();
    let version: Arc<str> = "1.0.0".into();

    // Baseline: build the same record and push it into a std channel drained
    // by another thread.
    let (tx, rx) = mpsc::channel::<LogRecord>();
    let drain = std::thread::spawn(move || rx.into_iter().count());
    group.bench_function("baseline_mpsc_send", |b| {
        b.iter(|| {
            let record = LogRecord {
                source: Some(source.clone()),
                environment: Some(Environment::Production),
                version: Some(version.clone()),
                timestamp: Some(now_millis()),
                ..LogRecord::new(Level::Info, black_box("message"))
            };
            tx.send(record).unwrap();
        })
    });
    drop(tx);
    drain.join().unwrap();

    let client = client();
    group.bench_function("info_message", |b| {
        b.iter(|| client.info(black_box("message"), (), None))
    });
    group.bench_function("info_small_data", |b| {
        b.iter(|| {
            client.info(
                black_box("message"),
                json!({"user": "alice", "attempt": 3, "ok": true}),
                None,
            )
        })
    });
    group.finish();
    client.flush().unwrap();
    let stats = client.stats();
    assert_eq!(stats.dropped + stats.lost, 0, "{stats:?}");
    eprintln!("caller benches: {stats:?}");
}

/// The caller's cost with a spool: each record is also written ahead into
/// the journal's memory-mapped segment; beside the in-memory call, same run.
fn caller_with_spool(c: &mut Criterion) {
    let mut group = c.benchmark_group("core_caller_spool");
    let in_memory = client();
    group.bench_function("baseline_info_message_in_memory", |b| {
        b.iter(|| in_memory.info(black_box("message"), (), None))
    });
    drop(in_memory);
    let dir = tempfile::tempdir().unwrap();
    let journaled = Client::builder()
        .source("bench")
        .api_key("tb_test_bench")
        .version("1.0.0")
        .queue_capacity(50_000_000)
        .spool(dir.path())
        // Room for the journal while the worker catches up.
        .spool_max_bytes(4 << 30)
        .on_error(|e| panic!("unexpected: {e}"))
        .transport(common::Discard::default())
        .build()
        .unwrap();
    group.bench_function("info_message_journaled", |b| {
        b.iter(|| journaled.info(black_box("message"), (), None))
    });
    group.finish();
    // The tail: each call timed on its own (a clock read adds ~20 ns).
    for (name, client) in [("in memory", client()), ("journaled", journaled)] {
        let mut took: Vec<u64> = (0..200_000)
            .map(|_| {
                let start = std::time::Instant::now();
                client.info(black_box("message"), (), None);
                start.elapsed().as_nanos() as u64
            })
            .collect();
        took.sort_unstable();
        let at = |q: f64| took[((took.len() - 1) as f64 * q) as usize];
        eprintln!(
            "info(\"message\") {name}: p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns",
            at(0.5),
            at(0.99),
            at(0.999),
            took[took.len() - 1]
        );
        client.flush().unwrap();
        let stats = client.stats();
        assert_eq!(stats.dropped + stats.lost, 0, "{stats:?}");
    }
}

criterion_group!(benches, caller, caller_with_spool);
criterion_main!(benches);
